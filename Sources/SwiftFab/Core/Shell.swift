/// POSIX shell quoting. Every argument that swiftfab interpolates into a
/// remote command goes through `quote`, so a value can never become syntax.
public enum Shell {
    /// Characters that never need quoting in a POSIX shell word.
    private static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")

    /// Quotes one word: `it's` becomes `'it'\''s'`; safe words stay bare
    /// so that plans and dry-runs stay readable.
    public static func quote(_ word: String) -> String {
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Quotes a path, leaving a leading `~` or `~/` to the remote shell so
    /// that it still means the remote user's home.
    public static func quotePath(_ path: String) -> String {
        if path == "~" { return "~" }
        if path.hasPrefix("~/") { return "~/" + (path.count > 2 ? quote(String(path.dropFirst(2))) : "") }
        return quote(path)
    }

    /// Quotes each word and joins them with spaces.
    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }

    /// True when `name` is a valid environment variable name.
    public static func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.first, first == "_" || first.isASCII && first.isLetter else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
