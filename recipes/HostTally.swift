import Foundation

/// What each host's step counted (doctor's failures, the changes
/// `provision --check` found), read once every host is done, for the
/// task's verdict.
final class HostTally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    func add(_ count: Int, host: String) { lock.withLock { counts[host, default: 0] += count } }

    var total: Int { lock.withLock { counts.values.reduce(0, +) } }

    /// The hosts that counted something, in name order.
    var hosts: [String] { lock.withLock { counts.filter { $0.value > 0 }.keys.sorted() } }

    /// `1 warning`, `3 warnings`.
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
