/// One thing to do on one host, fully expanded: directories and environment
/// folded into the commands, invoked tasks inlined. Plain data, so it can be
/// printed (dry-run), recorded (tests) or executed (SSH, local).
public indirect enum PlanItem: Sendable {
    case command(Command)
    case local(Command)
    case upload(local: String, remote: String, mode: UInt32?)
    case download(remote: String, local: String)
    case when(Command, then: [PlanItem], otherwise: [PlanItem])
    case dynamic(String, @Sendable (HostContext) async throws -> Void)
    /// The steps of a task run through `Invoke`.
    case invoked(String, [PlanItem])
}

/// A task expanded for the hosts it runs on.
public struct TaskPlan: Sendable {
    public var task: TaskDefinition
    public var arguments: TaskArguments
    /// In the order the strategy runs them.
    public var batches: [[HostDefinition]]
    public var items: [HostDefinition: [PlanItem]]
    /// The task's `AfterAllHosts` steps: run once, after every host.
    public var summaries: [@Sendable (AfterAllHostsContext) async -> [String]] = []

    public var hosts: [HostDefinition] { batches.flatMap { $0 } }
}
