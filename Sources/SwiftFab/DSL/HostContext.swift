/// What a `Dynamic` step gets: the host, its settings and arguments, and a
/// way to run commands whose results drive what happens next. Commands run
/// here are reported like any other (output, timings, logs).
public struct HostContext: Sendable {
    public let host: HostDefinition
    public let arguments: TaskArguments
    public let settings: ResolvedSettings
    let execute: @Sendable (Command, ExecOptions) async throws -> CommandResult
    let transfer: @Sendable (TransferRequest) async throws -> TransferSummary
    let notify: @Sendable (String) -> Void
    let show: @Sendable (String) -> Void
    let raise: @Sendable (Int32) -> Void
    var record: @Sendable (String) -> Void = { _ in }
    var structured: @Sendable (String, [String: String]) -> Void = { _, _ in }

    public enum TransferRequest: Sendable {
        case upload(local: String, remote: String, options: TransferOptions)
        case download(remote: String, local: String, options: TransferOptions)
    }

    public init(host: HostDefinition, arguments: TaskArguments, settings: ResolvedSettings,
                execute: @escaping @Sendable (Command) async throws -> CommandResult,
                transfer: @escaping @Sendable (TransferRequest) async throws -> TransferSummary = { _ in
                    throw SwiftFabError(.invalidInput, "transfers are not available here")
                }, notify: @escaping @Sendable (String) -> Void = { _ in }) {
        self.init(host: host, arguments: arguments, settings: settings, executeWithOptions: { command, _ in try await execute(command) },
                  transfer: transfer, notify: notify)
    }

    /// With `executeWithOptions`, commands also get the caller's stdin, timeout and PTY.
    public init(host: HostDefinition, arguments: TaskArguments, settings: ResolvedSettings,
                executeWithOptions: @escaping @Sendable (Command, ExecOptions) async throws -> CommandResult,
                transfer: @escaping @Sendable (TransferRequest) async throws -> TransferSummary,
                notify: @escaping @Sendable (String) -> Void, raiseExitCode: @escaping @Sendable (Int32) -> Void = { _ in },
                result: (@Sendable (String) -> Void)? = nil) {
        self.host = host
        self.arguments = arguments
        self.settings = settings
        self.execute = executeWithOptions
        self.transfer = transfer
        self.notify = notify
        self.show = result ?? notify
        self.raise = raiseExitCode
    }

    /// The run this task is part of (dry run, JSON output, the Deployfile's folder).
    public var run: RunContext { arguments.run }

    /// The run exits with at least `code` (the highest wins): a verdict such
    /// as a health report's "warnings" (1) or "failures" (2), not an error.
    public func raiseExitCode(to code: Int32) { raise(code) }

    /// A line of the task's own about this host, shown with its output
    /// (progress, warnings: standard error).
    public func note(_ text: String) { notify(text) }

    /// A line of what the task was asked to show (a listing, a table, a
    /// report): standard output, so `swiftfab TASK | grep ...` finds it.
    public func result(_ text: String) { show(text) }

    /// A structured result about this host (`kind` names it: `finding`), for
    /// `--json` and the run log; say it to people with `result` as well.
    public func report(_ kind: String, _ fields: [String: String]) { structured(kind, fields) }

    /// What this run left on the host (`release 20261201T101500Z-1a2b3c4`),
    /// for its line in the host's history when the task records one.
    public func recordInHistory(_ detail: String) { record(detail) }

    /// This host as a `Backend`, for recipe code that works on any backend;
    /// its commands and transfers are reported like the task's own.
    public var backend: any Backend { ContextBackend(context: self) }

    /// Runs a command and returns its result, whatever its exit status.
    @discardableResult
    public func run(_ script: ShellString) async throws -> CommandResult {
        try await execute(Command(shell: script), ExecOptions())
    }

    public func run(_ command: Command, _ options: ExecOptions = ExecOptions()) async throws -> CommandResult {
        try await execute(command, options)
    }

    /// Standard output without the trailing newline; throws if the command fails.
    public func output(_ script: ShellString) async throws -> String {
        try await output(Command(shell: script))
    }

    public func output(_ command: Command) async throws -> String {
        let result = try await execute(command, ExecOptions())
        guard result.succeeded else {
            throw SwiftFabError(.command, host: host.address, "`\(command.display)` failed (\(result.summary))",
                                hint: result.stderrText.split(separator: "\n").last.map(String.init))
        }
        return result.stdoutText.trimmingCharacters(in: .newlines)
    }

    /// True when the command exits 0.
    public func succeeds(_ script: ShellString) async throws -> Bool {
        try await execute(Command(shell: script), ExecOptions()).succeeded
    }
}

/// Settings with their values read (environment, env files).
public struct ResolvedSettings: Sendable {
    public var values: [String: SettingValue]
    /// Settings whose environment variable is unset: name -> variable.
    public var missing: [String: String]
    /// Values hidden like secrets that are not settings (an app's env file).
    public var hidden: [Secret]
    public init(values: [String: SettingValue] = [:], missing: [String: String] = [:], hidden: [Secret] = []) {
        self.values = values
        self.missing = missing
        self.hidden = hidden
    }

    public subscript(_ name: String) -> SettingValue? { values[name] }

    /// Every secret among them, for redacting output.
    public var secrets: [Secret] {
        values.values.compactMap { if case .secret(let secret) = $0 { return secret } else { return nil } } + hidden
    }
}

/// A host context seen as a Backend.
struct ContextBackend: Backend {
    let context: HostContext
    var host: String { context.host.address }

    func run(_ command: Command, _ options: ExecOptions) async throws -> CommandResult {
        try await context.execute(command, options)
    }

    func upload(_ local: String, to remote: String, _ options: TransferOptions) async throws -> TransferSummary {
        try await context.transfer(.upload(local: local, remote: remote, options: options))
    }

    func download(_ remote: String, to local: String, _ options: TransferOptions) async throws -> TransferSummary {
        try await context.transfer(.download(remote: remote, local: local, options: options))
    }

    func close() async {}
}
