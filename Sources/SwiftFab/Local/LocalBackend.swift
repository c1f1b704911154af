import Foundation

/// Runs commands and copies files on this machine, with the same interface
/// and behaviour as an SSH connection (output streaming, sudo answering,
/// time-outs that kill the whole process group, atomic file writes).
public final class LocalBackend: Backend, @unchecked Sendable {
    public let host: String

    public init(label: String = "local") {
        host = label
    }

    public func run(_ command: Command, _ options: ExecOptions) async throws -> CommandResult {
        // Each command gets its own thread: waitpid and poll block.
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try LocalProcess.run(command, options) }) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    public func upload(_ local: String, to remote: String, _ options: TransferOptions) async throws -> TransferSummary {
        try LocalCopy(options: options).copy(local, to: remote)
    }

    public func download(_ remote: String, to local: String, _ options: TransferOptions) async throws -> TransferSummary {
        try LocalCopy(options: options).copy(remote, to: local)
    }

    public func close() async {}
}
