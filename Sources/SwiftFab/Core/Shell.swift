/// POSIX shell quoting. Every argument that swiftfab interpolates into a
/// remote command goes through `quote`, so a value can never become syntax.
///
/// The shell reads bytes, so quoting works on UTF-8 bytes, never on
/// `Character`s: an apostrophe followed by a combining mark is one Swift
/// character that is not `'`, yet the shell still sees the byte 0x27.
public enum Shell {
    /// Bytes that never need quoting in a POSIX shell word.
    private static let safe: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_".utf8 { table[Int(byte)] = true }
        return table
    }()

    private static let apostrophe = UInt8(ascii: "'")
    /// `'\''`: close the quote, an escaped apostrophe, open it again.
    private static let escapedApostrophe = Array("'\\''".utf8)

    /// Quotes one word: `it's` becomes `'it'\''s'`; safe words stay bare
    /// so that plans and dry-runs stay readable.
    public static func quote(_ word: String) -> String {
        let bytes = word.utf8
        if !bytes.isEmpty && bytes.allSatisfy({ safe[Int($0)] }) { return word }
        var quoted: [UInt8] = [apostrophe]
        quoted.reserveCapacity(bytes.count + 2)
        for byte in bytes {
            if byte == apostrophe { quoted += escapedApostrophe } else { quoted.append(byte) }
        }
        quoted.append(apostrophe)
        // Only ASCII bytes were added between whole UTF-8 sequences: still valid UTF-8.
        return String(decoding: quoted, as: UTF8.self)
    }

    /// Quotes a path, leaving a leading `~` or `~/` to the remote shell so
    /// that it still means the remote user's home.
    public static func quotePath(_ path: String) -> String {
        if path == "~" { return "~" }
        let bytes = Array(path.utf8)
        guard bytes.starts(with: [UInt8(ascii: "~"), UInt8(ascii: "/")]) else { return quote(path) }
        let rest = String(decoding: bytes.dropFirst(2), as: UTF8.self)
        return "~/" + (rest.isEmpty ? "" : quote(rest))
    }

    /// Quotes each word and joins them with spaces.
    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }

    /// True when `name` is a valid environment variable name (ASCII letters,
    /// digits and underscores, not starting with a digit).
    public static func isValidVariableName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, first == UInt8(ascii: "_") || isASCIILetter(first) else { return false }
        return bytes.allSatisfy { $0 == UInt8(ascii: "_") || isASCIILetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
