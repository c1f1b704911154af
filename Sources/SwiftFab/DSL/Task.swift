/// How a task spreads over its hosts.
public indirect enum Strategy: Sendable, Equatable, CustomStringConvertible {
    /// All at once (bounded by --parallel).
    case parallel
    /// One host after another.
    case sequential
    /// Batches of N hosts, each batch finished before the next starts.
    case rolling(Int)
    /// Batches of N percent of the hosts (at least one).
    case rollingPercent(Int)
    /// The first N hosts alone (the canary), then the rest as `then` says
    /// (a percentage is of all the hosts).
    case canary(Int, then: Strategy)

    public var description: String {
        switch self {
        case .parallel: return "parallel"
        case .sequential: return "sequential"
        case .rolling(let count): return "rolling batches of \(count)"
        case .rollingPercent(let percent): return "rolling batches of \(percent)%"
        case .canary(let count, let then): return "a canary of \(count), then \(then)"
        }
    }

    /// The hosts in the batches this strategy runs them in.
    public func batches<T>(_ hosts: [T]) -> [[T]] {
        if case .canary(let count, let then) = self {
            let first = max(1, count)
            guard hosts.count > first else { return hosts.isEmpty ? [] : [hosts] }
            return [Array(hosts.prefix(first))] + then.batches(Array(hosts.dropFirst(first)), ofAll: hosts.count)
        }
        return batches(hosts, ofAll: hosts.count)
    }

    private func batches<T>(_ hosts: [T], ofAll total: Int) -> [[T]] {
        let size: Int
        switch self {
        case .parallel: size = max(hosts.count, 1)
        case .sequential: size = 1
        case .rolling(let count): size = max(count, 1)
        case .rollingPercent(let percent): size = max(1, total * percent / 100)
        case .canary: return batches(hosts)
        }
        return stride(from: 0, to: hosts.count, by: size).map { Array(hosts[$0..<min($0 + size, hosts.count)]) }
    }
}

/// What happens between two batches of a rolling task: a pause (the canary
/// serves real traffic meanwhile), then `check` on every host of the batch
/// just done. A host that fails it stops the rollout: no later batch starts.
public struct BatchGate: Sendable {
    public var pause: Double
    public var description: String
    public var check: (@Sendable (HostContext) async throws -> Void)?

    public init(pause: Double = 0, description: String, check: (@Sendable (HostContext) async throws -> Void)? = nil) {
        self.pause = pause
        self.description = description
        self.check = check
    }
}

/// What happens when a host fails.
public enum FailurePolicy: String, Sendable, Equatable {
    /// Stop starting work on more hosts (hosts already running finish).
    case failFast = "fail-fast"
    /// Carry on with the other hosts and report at the end.
    case continueOnFailure = "continue"
}

/// A named task: what to run, on which hosts, how.
public struct TaskDefinition: Sendable {
    public var name: String
    public var description: String
    public var roles: [Role]
    public var once: Bool
    public var strategy: Strategy
    public var failurePolicy: FailurePolicy
    /// What the command line may say to this task, checked before anything runs.
    public var options: [TaskOption]
    /// Plans the task: may throw (a bad argument, an unknown revision), which
    /// stops the run before anything connects.
    public var body: @Sendable (TaskArguments) throws -> [Step]
    /// The run exits with at least this code when a host of this task fails
    /// (a health report: an unreachable host is a failure, not a warning).
    public var hostFailureExitCode: Int32?
    /// Replaces a task of the same name (a recipe's): without it, two tasks of one name are a mistake.
    public var overrides: Bool
    /// Each host's run of it is appended to that host's history (`swiftfab history`).
    public var recordsHistory = false
    /// What happens between two of its batches (a rolling strategy).
    public var betweenBatches: BatchGate?

    public init(name: String, description: String, roles: [Role] = [], once: Bool = false, strategy: Strategy = .parallel,
                failurePolicy: FailurePolicy = .continueOnFailure, options: [any DeclaresTaskOption] = [], hostFailureExitCode: Int32? = nil,
                overrides: Bool = false, body: @escaping @Sendable (TaskArguments) throws -> [Step]) {
        self.hostFailureExitCode = hostFailureExitCode
        self.name = name
        self.description = description
        self.roles = roles
        self.once = once
        self.strategy = strategy
        self.failurePolicy = failurePolicy
        self.options = options.map(\.declaration)
        self.overrides = overrides
        self.body = body
    }

    /// Names of the positional arguments, in order.
    public var arguments: [String] { options.filter(\.isArgument).map(\.name) }

    public func steps(_ arguments: TaskArguments) throws -> [Step] { try body(arguments) }

    /// This task, each run of it on a host appended to the host's history
    /// (when, who from where, the command line, what it left, how it ended).
    public func recordedInHistory() -> TaskDefinition {
        var copy = self
        copy.recordsHistory = true
        return copy
    }

    /// This task, with `gate` between its batches.
    public func gated(by gate: BatchGate) -> TaskDefinition {
        var copy = self
        copy.betweenBatches = gate
        return copy
    }

    /// This task, replacing one of the same name declared earlier (a recipe's).
    public func overriding() -> TaskDefinition {
        var copy = self
        copy.overrides = true
        return copy
    }
}

/// `Task("uptime", "Show load on every host") { Run("uptime") }`
public func Task(_ name: String, _ description: String, on roles: Role..., once: Bool = false,
                 strategy: Strategy = .parallel, failurePolicy: FailurePolicy = .continueOnFailure,
                 @StepBuilder _ steps: @escaping @Sendable () throws -> [Step]) -> TaskDefinition {
    TaskDefinition(name: name, description: description, roles: roles, once: once, strategy: strategy,
                   failurePolicy: failurePolicy, body: { _ in try steps() })
}

/// `Task("restore", "Restore a backup", arguments: "name") { args in Run("restore \(args["name"])") }`:
/// each name is a required positional argument.
public func Task(_ name: String, _ description: String, on roles: Role..., once: Bool = false,
                 strategy: Strategy = .parallel, failurePolicy: FailurePolicy = .continueOnFailure, arguments: String...,
                 @StepBuilder steps: @escaping @Sendable (TaskArguments) throws -> [Step]) -> TaskDefinition {
    TaskDefinition(name: name, description: description, roles: roles, once: once, strategy: strategy,
                   failurePolicy: failurePolicy, options: arguments.map { .argument($0, help: "") }, body: steps)
}

/// `Task("greet", "Greet someone", options: [who, loud]) { args in ... args[who] ... args[loud] ... }`, with
/// `let who = Argument("name", help: "Who")` and `let loud = Flag("loud", help: "Shout")` (`TypedOptions.swift`).
public func Task(_ name: String, _ description: String, on roles: Role..., once: Bool = false,
                 strategy: Strategy = .parallel, failurePolicy: FailurePolicy = .continueOnFailure, options: [any DeclaresTaskOption],
                 @StepBuilder steps: @escaping @Sendable (TaskArguments) throws -> [Step]) -> TaskDefinition {
    TaskDefinition(name: name, description: description, roles: roles, once: once, strategy: strategy,
                   failurePolicy: failurePolicy, options: options, body: steps)
}

/// Runs `task` before or after another task, named by its name, or on the
/// failed task's hosts when it fails.
public struct Hook: Sendable, Equatable {
    public enum When: String, Sendable { case before, after, failed }
    public var when: When
    public var target: String
    public var task: String
}

/// `Before("deploy", run: "check")`
public func Before(_ target: String, run task: String) -> Hook { Hook(when: .before, target: target, task: task) }

/// `After("deploy:switch", run: "migrate")`
public func After(_ target: String, run task: String) -> Hook { Hook(when: .after, target: target, task: task) }

/// `OnFailure("deploy", run: "live")`: when deploy fails on any host, run
/// `live` on all of deploy's hosts (to report, notify or clean up); the run
/// still fails.
public func OnFailure(_ target: String, run task: String) -> Hook { Hook(when: .failed, target: target, task: task) }
