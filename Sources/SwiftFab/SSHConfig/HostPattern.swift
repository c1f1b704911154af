/// OpenSSH-style host pattern matching (`*`, `?`, `!negation`), shared by
/// ssh_config `Host`/`Match host` and known_hosts host lists.
enum HostPattern {
    /// Glob match of `text` against a single pattern with `*` and `?`.
    /// Case-insensitive because ssh lowercases host names before matching.
    static func matches(_ text: String, _ pattern: String) -> Bool {
        glob(Array(ConfigText.lowercased(text).utf8), Array(ConfigText.lowercased(pattern).utf8))
    }

    /// Result of matching against a pattern list, as OpenSSH's `match_pattern_list`.
    enum ListResult: Equatable {
        case matched
        case negated   // a `!pattern` matched: the whole list is a non-match
        case noMatch
    }

    /// A list of patterns where any `!pattern` hit vetoes positive hits.
    static func matchList(_ text: String, _ patterns: [String]) -> ListResult {
        var result = ListResult.noMatch
        for raw in patterns where !raw.isEmpty {
            // Scalars, not Characters: `!` followed by a combining mark still negates, as for ssh.
            let negated = raw.unicodeScalars.first == "!"
            let pattern = negated ? String(raw.unicodeScalars.dropFirst()) : raw
            guard matches(text, pattern) else { continue }
            if negated { return .negated }
            result = .matched
        }
        return result
    }

    /// Comma-separated list form, as used by `Match host a,b,!c` and known_hosts.
    static func matchCommaList(_ text: String, _ list: String) -> ListResult {
        matchList(text, commaList(list))
    }

    /// The items of a comma-separated list, split on the scalar `,` (a comma
    /// followed by a combining mark is one Swift Character, yet two items to ssh).
    static func commaList(_ list: String) -> [String] {
        list.unicodeScalars.split(separator: ",").map { String(String.UnicodeScalarView($0)) }
    }

    /// Iterative glob with single-star backtracking: linear-ish and no recursion,
    /// so hostile patterns like `*a*a*a*b` can't blow the stack.
    private static func glob(_ text: [UInt8], _ pattern: [UInt8]) -> Bool {
        let star = UInt8(ascii: "*"), any = UInt8(ascii: "?")
        var t = 0, p = 0
        var starP = -1, starT = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == star {
                starP = p
                starT = t
                p += 1
            } else if p < pattern.count, pattern[p] == any || pattern[p] == text[t] {
                t += 1
                p += 1
            } else if starP >= 0 {
                // Let the last `*` swallow one more character and retry.
                starT += 1
                t = starT
                p = starP + 1
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == star { p += 1 }
        return p == pattern.count
    }
}
