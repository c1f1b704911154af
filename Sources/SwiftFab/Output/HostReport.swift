/// How one host fared in a run.
public struct HostReport: Sendable {
    public enum Status: Sendable, Equatable {
        case ok
        /// The command ran and failed (exit code, signal or time-out).
        case failed(String)
        /// The host could not be used: unreachable, refused, auth, host key.
        case error(SwiftFabError)
    }

    public var host: String
    public var status: Status
    public var duration: Double
    public var result: CommandResult?

    public init(host: String, status: Status, duration: Double, result: CommandResult? = nil) {
        self.host = host
        self.status = status
        self.duration = duration
        self.result = result
    }

    /// 0 when every host succeeded, 1 when one failed: its command, or the
    /// host could not be reached or used (as for a task: README's table).
    public static func exitCode(_ reports: [HostReport]) -> Int32 {
        reports.contains { $0.status != .ok } ? 1 : 0
    }
}
