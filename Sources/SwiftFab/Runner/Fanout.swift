/// Runs work for many hosts at once, at most `parallel` at a time, and
/// returns the results in the hosts' order.
///
/// The tasks only await: the blocking SSH work happens on each connection's
/// own thread, so the width is limited by `parallel`, not by the core count.
public enum Fanout {
    public static func map<Item: Sendable, T: Sendable>(_ hosts: [Item], parallel: Int,
                                                        _ body: @escaping @Sendable (Item) async -> T) async -> [T] {
        let width = max(1, min(parallel, hosts.count))
        return await withTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: hosts.count)
            var next = 0
            for _ in 0..<width {
                let index = next
                group.addTask { (index, await body(hosts[index])) }
                next += 1
            }
            while let (index, value) = await group.next() {
                results[index] = value
                if next < hosts.count {
                    let index = next
                    group.addTask { (index, await body(hosts[index])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}

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


