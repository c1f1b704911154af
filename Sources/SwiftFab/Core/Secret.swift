/// A value that must never be printed: passwords, tokens, passphrases.
/// Its descriptions are redacted, so string interpolation, `print`, logs
/// and JSON all show `[secret]`; only `reveal()` yields the value.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String
    /// How it is shown; a secret that stands in for one not set says so.
    private let label: String
    public init(_ value: String) {
        self.value = value
        label = "[secret]"
    }

    /// A stand-in for a secret whose variable is not set (a dry run shows it; nothing runs with it).
    public init(notSet variable: String) {
        value = ""
        label = "[secret \(variable): not set]"
    }

    public func reveal() -> String { value }
    public var description: String { label }
    public var debugDescription: String { label }

    private static let mask = Array("[secret]".utf8)

    /// Removes every occurrence of the secrets from `text`.
    ///
    /// Matching is on UTF-8 bytes, as the text reached the terminal: a
    /// `Character` comparison would miss a secret followed by a combining
    /// mark (the two fuse into one character). Longer secrets go first, so
    /// a secret that contains another is never half shown.
    public static func redact(_ text: String, _ secrets: [Secret]) -> String {
        let needles = Set(secrets.map { Array($0.value.utf8) }).filter { !$0.isEmpty }.sorted { $0.count > $1.count }
        guard !needles.isEmpty else { return text }
        var bytes = Array(text.utf8)
        var changed = false
        for needle in needles where bytes.count >= needle.count {
            let replaced = bytes.replacing(needle, with: mask)
            if replaced.count != bytes.count || replaced != bytes { bytes = replaced; changed = true }
        }
        // A valid UTF-8 needle matches only whole sequences of valid UTF-8 text.
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }
}
