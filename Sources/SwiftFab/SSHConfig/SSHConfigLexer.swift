/// Splits one ssh_config line into a keyword and its arguments, as OpenSSH's
/// readconf.c does, on Unicode scalars (a space followed by a combining mark
/// is still a space to ssh, which reads bytes).
///
/// Accepts `Key Value`, `Key=Value` and `Key = Value`; arguments may be quoted with
/// `"` or `'`, and an unquoted argument starting with `#` starts a trailing comment.
/// Only space and tab separate arguments (`argv_split`); space, tab, CR and LF
/// separate the keyword (`strdelim`); trailing whitespace and form feeds are
/// dropped. Other Unicode whitespace, VT and FF inside a line are plain characters.
enum SSHConfigLexer {
    struct LexError: Error {
        var message: String
    }

    typealias Scalars = [Unicode.Scalar]

    /// nil for blank and comment lines.
    static func split(_ line: Substring) throws(LexError) -> (keyword: String, args: [String])? {
        let chars = trimmed(line)
        var i = 0
        skip(chars, &i, while: isKeywordSpace)
        guard i < chars.count, chars[i] != "#" else { return nil }

        let keywordStart = i
        while i < chars.count, !isKeywordSpace(chars[i]), chars[i] != "=" { i += 1 }
        let keyword = string(chars[keywordStart..<i])
        guard !keyword.isEmpty else { throw LexError(message: "missing keyword") }

        // A single `=` may separate the keyword from its value, with spaces either side.
        skip(chars, &i, while: isKeywordSpace)
        if i < chars.count, chars[i] == "=" {
            i += 1
            skip(chars, &i, while: isKeywordSpace)
        }
        return (keyword, try arguments(chars, from: i))
    }

    /// The value as written, after the keyword and every space and `=` that
    /// follow it: what ProxyCommand takes (a shell command, quotes and all), as OpenSSH does.
    static func rawValue(_ line: Substring) -> String {
        let chars = trimmed(line)
        var i = 0
        skip(chars, &i, while: isKeywordSpace)
        skip(chars, &i) { !isKeywordSpace($0) && $0 != "=" }
        skip(chars, &i) { isKeywordSpace($0) || $0 == "=" }
        return string(chars[i...])
    }

    /// OpenSSH's `argv_split`: a backslash escapes a quote, a backslash, or (outside quotes) a space.
    private static func arguments(_ chars: Scalars, from start: Int) throws(LexError) -> [String] {
        var args: [String] = []
        var i = start
        while true {
            skip(chars, &i, while: isArgumentSpace)
            guard i < chars.count, chars[i] != "#" else { return args }
            var arg = String.UnicodeScalarView()
            var quote: Unicode.Scalar?
            while i < chars.count, quote != nil || !isArgumentSpace(chars[i]) {
                let c = chars[i]
                i += 1
                if c == "\\", i < chars.count, chars[i] == "\"" || chars[i] == "'" || chars[i] == "\\" || (quote == nil && chars[i] == " ") {
                    arg.append(chars[i])
                    i += 1
                } else if quote == nil, c == "\"" || c == "'" {
                    quote = c
                } else if c == quote {
                    quote = nil
                } else {
                    arg.append(c)
                }
            }
            guard quote == nil else { throw LexError(message: "unterminated quote") }
            args.append(String(arg))
        }
    }

    /// The line without what OpenSSH strips from its end: whitespace and form feeds.
    private static func trimmed(_ line: Substring) -> Scalars {
        var chars = Array(line.unicodeScalars)
        while let last = chars.last, isKeywordSpace(last) || last == "\u{0C}" { chars.removeLast() }
        return chars
    }

    /// `WHITESPACE` in readconf.c and misc.c.
    private static func isKeywordSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }
    private static func isArgumentSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }

    private static func skip(_ chars: Scalars, _ i: inout Int, while test: (Unicode.Scalar) -> Bool) {
        while i < chars.count, test(chars[i]) { i += 1 }
    }

    private static func string(_ chars: ArraySlice<Unicode.Scalar>) -> String {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: chars)
        return String(text)
    }
}
