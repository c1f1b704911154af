/// How far apart two names are, for "did you mean" answers (tasks, options,
/// hosts, roles, environments, backups).
public enum EditDistance {
    /// The fewest one-character insertions, deletions, substitutions and swaps
    /// of two neighbours that turn `a` into `b` (a swap is the commonest typo:
    /// `wbe` is one step from `web`).
    public static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { current[j] = min(current[j], before[j - 2] + 1) }
            }
            before = previous
            previous = current
        }
        return previous[b.count]
    }

    /// The names close to `name`, closest first: within a third of its length
    /// (at least one edit), or starting with it.
    public static func near(_ name: String, in names: [String]) -> [String] {
        let limit = max(1, name.count / 3)
        return names.map { ($0, between($0.lowercased(), name.lowercased())) }
            .filter { $0.1 <= limit || ($0.0.hasPrefix(name) && name.count >= 2) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
    }
}
