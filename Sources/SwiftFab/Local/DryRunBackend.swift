import Foundation

/// `--dry-run`: the run's own code runs against this backend, which runs
/// nothing. Every command and transfer is recorded (and reported like a real
/// one), and each command is answered with what it says a host would answer
/// (`Command.assuming`), or with success and no output. So a dry run shows
/// exactly what the real run would send, from the same code, with the
/// answers it depends on named as assumptions.
public final class DryRunBackend: Backend, @unchecked Sendable {
    public let host: String
    private let lock = NSLock()
    private var recorded: [RecordingBackend.Call] = []

    public init(host: String) { self.host = host }

    /// What would have been done, in order.
    public var calls: [RecordingBackend.Call] { lock.withLock { recorded } }

    public func run(_ command: Command, _ options: ExecOptions) async throws -> CommandResult {
        lock.withLock { recorded.append(.run(command.display)) }
        var result = CommandResult(exitStatus: command.assumption?.exitStatus ?? 0, stdout: Data((command.assumption?.stdout ?? "").utf8))
        result.assumed = command.assumption?.because
        if !result.stdout.isEmpty { options.onOutput?(OutputChunk(stream: .stdout, bytes: result.stdout)) }
        return result
    }

    public func upload(_ local: String, to remote: String, _ options: TransferOptions) async throws -> TransferSummary {
        lock.withLock { recorded.append(.upload(local: local, remote: remote, mode: options.mode)) }
        let (files, bytes) = Self.measure(local)
        return TransferSummary(files: files, bytes: bytes, duration: 0, destination: remote)
    }

    public func download(_ remote: String, to local: String, _ options: TransferOptions) async throws -> TransferSummary {
        lock.withLock { recorded.append(.download(remote: remote, local: local)) }
        return TransferSummary(files: 0, bytes: 0, duration: 0, destination: local)
    }

    public func close() async {}

    /// Files and bytes under a local path (what an upload would send).
    static func measure(_ path: String) -> (files: Int, bytes: Int64) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return (0, 0) }
        if attributes[.type] as? FileAttributeType != .typeDirectory {
            return (1, (attributes[.size] as? NSNumber)?.int64Value ?? 0)
        }
        var files = 0, bytes: Int64 = 0
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String {
            let child = (try? FileManager.default.attributesOfItem(atPath: path + "/" + relative)) ?? [:]
            if child[.type] as? FileAttributeType == .typeRegular {
                files += 1
                bytes += (child[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return (files, bytes)
    }
}
