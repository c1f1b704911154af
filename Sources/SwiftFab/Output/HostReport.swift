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

    /// 0 when every host succeeded, 1 when a command failed, 2 when a host
    /// could not be reached or used at all.
    public static func exitCode(_ reports: [HostReport]) -> Int32 {
        if reports.contains(where: { if case .error = $0.status { return true } else { return false } }) { return 2 }
        if reports.contains(where: { $0.status != .ok }) { return 1 }
        return 0
    }
}
