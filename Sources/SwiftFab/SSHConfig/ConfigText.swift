/// How OpenSSH reads ssh_config and known_hosts: a line ends at `\n` only
/// (`getline`), and at a NUL byte (it is a C string from there). Swift's own
/// line breaks (VT, FF, NEL, U+2028, U+2029, a lone CR) are characters like
/// any other to ssh: `# managed<U+2028>ProxyCommand x` is one comment line.
enum ConfigText {
    /// The lines of `text`, without the `\r` of a CRLF ending.
    static func lines(_ text: String) -> [Substring] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var kept = line.prefix { $0 != "\0" }
            if kept.last == "\r" { kept = kept.dropLast() }
            return Substring(kept)
        }
    }

    /// The fields of a known_hosts line: only space and tab separate them.
    static func fields(_ line: Substring) -> [Substring] {
        line.unicodeScalars.split { $0 == " " || $0 == "\t" }.map(Substring.init)
    }

    /// ASCII letters only, as OpenSSH's `tolower` in the C locale: Unicode
    /// lowercasing would make the Kelvin sign (U+212A) match `k`, where ssh does not.
    static func lowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
