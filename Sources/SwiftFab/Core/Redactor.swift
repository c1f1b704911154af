import Foundation

/// Hides secrets in text for people and files: every event a run reports
/// (commands, output, notes, errors: screen, `--json`, the run log), the run
/// log's first line and the hosts' history lines all go through one of these.
///
/// Each secret is hidden whole. A secret of several lines (a PEM key, a JSON
/// credential) is also hidden line by line, as CI systems do, because output
/// reaches people a line at a time: each of its lines, without the spaces
/// around it, of at least `minimumLength` bytes (hiding `{`, `}` or an
/// empty line would hide too much).
///
/// Matching is on UTF-8 bytes, as the text reached the terminal: a
/// `Character` comparison would miss a secret followed by a combining mark
/// (the two fuse into one character). Longer values go first, so a value that
/// contains another is never half shown.
public struct Redactor: Sendable {
    /// The shortest line of a multi-line secret, and the shortest env-file
    /// value, that is hidden on its own.
    public static let minimumLength = 4
    static let mask = Array("[secret]".utf8)

    /// The byte strings hidden, longest first.
    let needles: [[UInt8]]

    public init(_ secrets: [Secret]) {
        var found = Set<[UInt8]>()
        for secret in secrets {
            let whole = Array(secret.reveal().utf8)
            found.insert(whole)
            guard whole.contains(where: Self.isLineBreak) else { continue }
            for line in whole.split(whereSeparator: Self.isLineBreak) {
                let trimmed = line.drop(while: Self.isBlank).reversed().drop(while: Self.isBlank).reversed()
                if trimmed.count >= Self.minimumLength { found.insert(Array(trimmed)) }
            }
        }
        needles = found.filter { !$0.isEmpty }.sorted { $0.count > $1.count || ($0.count == $1.count && $0.lexicographicallyPrecedes($1)) }
    }

    public var isEmpty: Bool { needles.isEmpty }

    /// `text` with every hidden value replaced by `[secret]`.
    public func redact(_ text: String) -> String {
        guard !needles.isEmpty else { return text }
        var bytes = Array(text.utf8)
        var changed = false
        for needle in needles where Self.contains(bytes, needle) {
            bytes = bytes.replacing(needle, with: Self.mask)
            changed = true
        }
        // A valid UTF-8 needle matches only whole sequences of valid UTF-8 text.
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    /// Whether `needle` (not empty) is in `bytes`: memchr for its first byte, then memcmp.
    /// Most text holds no secret, and this is asked for every line a host prints.
    private static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        return bytes.withUnsafeBufferPointer { text in
            needle.withUnsafeBufferPointer { needle in
                let base = text.baseAddress!, last = text.count - needle.count
                var start = 0
                while start <= last, let found = memchr(base + start, Int32(needle[0]), last - start + 1) {
                    let at = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if memcmp(base + at, needle.baseAddress!, needle.count) == 0 { return true }
                    start = at + 1
                }
                return false
            }
        }
    }

    private static func isLineBreak(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") }
    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
}
