/// One thing a task does on a host. Plain data, except `dynamic`, the
/// escape hatch for logic that needs results from the host.
public indirect enum Step: Sendable {
    case run(Command)
    case upload(local: String, remote: String, mode: UInt32?)
    case download(remote: String, local: String)
    /// Runs on this machine, once per host it is planned for.
    case local(Command)
    case within(String, [Step])
    case environment([String: ShellString], [Step])
    /// Steps that run only if `condition` succeeds on the host (and others if not).
    case when(Command, then: [Step], otherwise: [Step])
    /// Another task's steps, by name, with its arguments.
    case invoke(String, arguments: [String])
    /// Code that runs with the host's context and may use command results.
    case dynamic(String, @Sendable (HostContext) async throws -> Void)
    /// Lines shown once after every host ran the task (a table across hosts).
    case summary(@Sendable (AfterAllHostsContext) async -> [String])
}

/// `Run("systemctl reload \(service)")`: literal text is shell syntax,
/// interpolated values are quoted, secrets are redacted in what is shown.
public func Run(_ script: ShellString, env: [String: String] = [:]) -> Step {
    .run(Command(shell: script).with(environment: env))
}

/// `Run(["ls", "-l", dir])`: each word quoted.
public func Run(_ words: [String], env: [String: String] = [:]) -> Step {
    .run(Command(words: words).with(environment: env))
}

/// `Sudo("systemctl restart nginx")`, `Sudo("psql -c 'select 1'", as: "postgres")`
public func Sudo(_ script: ShellString, as user: String? = nil, env: [String: String] = [:]) -> Step {
    .run(Command(shell: script).with(environment: env).asSudo(user: user))
}

public func Upload(_ local: String, to remote: String, mode: UInt32? = nil) -> Step {
    .upload(local: local, remote: remote, mode: mode)
}

public func Download(_ remote: String, to local: String) -> Step {
    .download(remote: remote, local: local)
}

/// Runs on this machine (builds, checks), not on the host.
public func Local(_ script: ShellString, env: [String: String] = [:]) -> Step {
    .local(Command(shell: script).with(environment: env))
}

/// Runs the nested steps inside `directory` (relative to an outer Within).
public func Within(_ directory: String, @StepBuilder _ steps: () -> [Step]) -> Step {
    .within(directory, steps())
}

/// `Within(Settings["app_dir"]) { ... }`
public func Within(_ directory: SettingValue, @StepBuilder _ steps: () -> [Step]) -> Step {
    if case .plain(let path) = directory { return .within(path, steps()) }
    return .within("", steps()) // a secret is no directory; the planner's setting check reports misuse
}

/// Runs the nested steps with these environment variables.
public func WithEnvironment(_ variables: [String: String], @StepBuilder _ steps: () -> [Step]) -> Step {
    .environment(variables.mapValues(ShellString.word), steps())
}

/// Runs the nested steps with these values (secrets stay redacted).
public func WithEnvironment(_ variables: [String: SettingValue], @StepBuilder _ steps: () -> [Step]) -> Step {
    .environment(variables.mapValues(\.shell), steps())
}

/// Steps that run only when `condition` succeeds on the host.
/// `When("test -d /srv/app/shared") { ... } otherwise: { ... }`
public func When(_ condition: ShellString, @StepBuilder _ then: () -> [Step],
                 @StepBuilder otherwise: () -> [Step] = { [] }) -> Step {
    .when(Command(shell: condition), then: then(), otherwise: otherwise())
}

/// Runs another task's steps here.
public func Invoke(_ task: String, _ arguments: String...) -> Step {
    .invoke(task, arguments: arguments)
}

/// The escape hatch: async code with the host's context.
/// `Dynamic("skip if current") { host in if try await host.output("cat REVISION") == rev { ... } }`
public func Dynamic(_ description: String, _ body: @escaping @Sendable (HostContext) async throws -> Void) -> Step {
    .dynamic(description, body)
}

/// Lines shown once, after every host has run the task: what the task's
/// `Dynamic` steps gathered, compared or merged across hosts. Top level only.
/// `AfterAllHosts { run in collector.table() }`
public func AfterAllHosts(_ lines: @escaping @Sendable (AfterAllHostsContext) async -> [String]) -> Step {
    .summary(lines)
}

/// What an `AfterAllHosts` step may do besides returning its lines (the
/// task's results, on standard output).
public struct AfterAllHostsContext: Sendable {
    let raise: @Sendable (Int32) -> Void
    var settle: @Sendable (Verdict) -> Void = { _ in }
    var say: @Sendable (String) -> Void = { _ in }
    var structured: @Sendable (String, [String: String]) -> Void = { _, _ in }
    /// The run exits with at least `code` (a warning across hosts: 1).
    public func raiseExitCode(to code: Int32) { raise(code) }
    /// How the task ended, said on its last line instead of "done"
    /// (`.warning("3 warnings", exitCode: 1)`); when every host succeeded,
    /// the run exits with at least the verdict's exit code.
    public func conclude(_ verdict: Verdict) { settle(verdict) }
    /// A line about the run that is no result (on standard error).
    public func note(_ text: String) { say(text) }
    /// A structured result about the run as a whole (`HostContext.report`).
    public func report(_ kind: String, _ fields: [String: String]) { structured(kind, fields) }
}
