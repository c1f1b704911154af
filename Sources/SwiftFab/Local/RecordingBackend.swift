import Foundation

/// A backend for tests: records what it is asked to do and answers from a
/// script of responses (exit 0 with no output unless told otherwise).
public final class RecordingBackend: Backend, @unchecked Sendable {
    public enum Call: Sendable, Equatable {
        case run(String)
        case upload(local: String, remote: String, mode: UInt32?)
        case download(remote: String, local: String)
    }

    public let host: String
    /// Unscripted commands answer what they say a host would (`Command.assuming`), as in a dry run.
    public let answerAssumptions: Bool
    private let lock = NSLock()
    private var recorded: [Call] = []
    private var values: [Command] = []
    private var responses: [(matches: @Sendable (Command, String) -> Bool, result: @Sendable () -> CommandResult)] = []
    private var failures: [(matches: @Sendable (Call) -> Bool, error: SwiftFabError)] = []

    public init(host: String, answerAssumptions: Bool = false) {
        self.host = host
        self.answerAssumptions = answerAssumptions
    }

    /// Commands whose rendered text contains `fragment` answer with `result`.
    public func respond(to fragment: String, with result: CommandResult) {
        lock.withLock { responses.append(({ $1.contains(fragment) }, { result })) }
    }

    /// This very command (as a value) answers with `result`.
    public func respond(to command: Command, with result: CommandResult) {
        lock.withLock { responses.append(({ given, _ in given == command }, { result })) }
    }

    /// Commands that `matches` answer with what `answer` says at the time
    /// (a host whose state changes during the run). `answer` runs under the
    /// backend's lock: it must not call the backend.
    public func respond(when matches: @escaping @Sendable (Command) -> Bool, with answer: @escaping @Sendable () -> CommandResult) {
        lock.withLock { responses.append(({ given, _ in matches(given) }, { answer() })) }
    }

    /// Calls `matching` throw `error` (a lost connection, a full disk).
    public func fail(_ matching: @escaping @Sendable (Call) -> Bool, with error: SwiftFabError) {
        lock.withLock { failures.append((matching, error)) }
    }

    /// The commands run, as values, in order.
    public var commandValues: [Command] { lock.withLock { values } }

    public var calls: [Call] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    /// The rendered text of every command run, in order.
    public var commands: [String] { calls.compactMap { if case .run(let text) = $0 { return text } else { return nil } } }

    public func run(_ command: Command, _ options: ExecOptions) async throws -> CommandResult {
        let text = try command.rendered()
        try failIfAsked(.run(text))
        let result = record(.run(text)) {
            values.append(command)
            if let scripted = responses.last(where: { $0.matches(command, text) })?.result { return scripted() }
            guard answerAssumptions, let assumed = command.assumption else { return CommandResult(exitStatus: 0) }
            return CommandResult(exitStatus: assumed.exitStatus, stdout: Data(assumed.stdout.utf8))
        }
        if !result.stdout.isEmpty { options.onOutput?(OutputChunk(stream: .stdout, bytes: result.stdout)) }
        if !result.stderr.isEmpty { options.onOutput?(OutputChunk(stream: .stderr, bytes: result.stderr)) }
        return result
    }

    public func upload(_ local: String, to remote: String, _ options: TransferOptions) async throws -> TransferSummary {
        try failIfAsked(.upload(local: local, remote: remote, mode: options.mode))
        record(.upload(local: local, remote: remote, mode: options.mode)) {}
        return TransferSummary(files: 1, bytes: 0, duration: 0, destination: remote)
    }

    public func download(_ remote: String, to local: String, _ options: TransferOptions) async throws -> TransferSummary {
        record(.download(remote: remote, local: local)) {}
        return TransferSummary(files: 1, bytes: 0, duration: 0, destination: local)
    }

    public func close() async {}

    private func failIfAsked(_ call: Call) throws {
        if let failure = lock.withLock({ failures.first { $0.matches(call) } }) { throw failure.error }
    }

    private func record<T>(_ call: Call, _ then: () -> T) -> T {
        lock.withLock {
            recorded.append(call)
            return then()
        }
    }
}
