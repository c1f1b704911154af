/// Runs commands and moves files on one host. SSH, the local machine, the
/// dry run and a recording test double all implement it, so the
/// code that decides *what* to run never cares *how* it runs.
public protocol Backend: Sendable {
    /// The host's label, as the user wrote it (alias or user@host).
    var host: String { get }
    /// Runs a command to completion. A non-zero exit is a result, not an
    /// error; errors are transport failures (connection lost, refused).
    func run(_ command: Command, _ options: ExecOptions) async throws -> CommandResult
    /// Copies a local file or directory tree to the host, atomically per file.
    func upload(_ local: String, to remote: String, _ options: TransferOptions) async throws -> TransferSummary
    /// Copies a remote file or directory tree here, atomically per file.
    func download(_ remote: String, to local: String, _ options: TransferOptions) async throws -> TransferSummary
    /// Releases the connection.
    func close() async
}

extension Backend {
    public func run(_ command: Command) async throws -> CommandResult {
        try await run(command, ExecOptions())
    }
}
