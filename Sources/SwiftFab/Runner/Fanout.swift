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
