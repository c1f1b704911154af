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
    private let lock = NSLock()
    private var recorded: [Call] = []
    private var responses: [(matches: @Sendable (String) -> Bool, result: CommandResult)] = []

    public init(host: String) { self.host = host }

    /// Commands whose rendered text contains `fragment` answer with `result`.
    public func respond(to fragment: String, with result: CommandResult) {
        lock.lock()
        defer { lock.unlock() }
        responses.append(({ $0.contains(fragment) }, result))
    }

    public var calls: [Call] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    /// The rendered text of every command run, in order.
    public var commands: [String] { calls.compactMap { if case .run(let text) = $0 { return text } else { return nil } } }

    public func run(_ command: Command, _ options: ExecOptions) async throws -> CommandResult {
        let text = try command.rendered()
        let result = record(.run(text)) { responses.last { $0.matches(text) }?.result ?? CommandResult(exitStatus: 0) }
        if !result.stdout.isEmpty { options.onOutput?(OutputChunk(stream: .stdout, bytes: result.stdout)) }
        if !result.stderr.isEmpty { options.onOutput?(OutputChunk(stream: .stderr, bytes: result.stderr)) }
        return result
    }

    public func upload(_ local: String, to remote: String, _ options: TransferOptions) async throws -> TransferSummary {
        record(.upload(local: local, remote: remote, mode: options.mode)) {}
        return TransferSummary(files: 1, bytes: 0, duration: 0, destination: remote)
    }

    public func download(_ remote: String, to local: String, _ options: TransferOptions) async throws -> TransferSummary {
        record(.download(remote: remote, local: local)) {}
        return TransferSummary(files: 1, bytes: 0, duration: 0, destination: local)
    }

    public func close() async {}

    private func record<T>(_ call: Call, _ then: () -> T) -> T {
        lock.withLock {
            recorded.append(call)
            return then()
        }
    }
}
