/// Splits one ssh_config line into a keyword and its arguments.
///
/// Accepts `Key Value`, `Key=Value` and `Key = Value`; arguments may be quoted with
/// `"` or `'`, and an unquoted argument starting with `#` starts a trailing comment.
enum SSHConfigLexer {
    struct LexError: Error {
        var message: String
    }

    /// nil for blank and comment lines.
    static func split(_ line: Substring) throws(LexError) -> (keyword: String, args: [String])? {
        let chars = Array(line)
        var i = 0
        skipSpace(chars, &i)
        guard i < chars.count, chars[i] != "#" else { return nil }

        let keywordStart = i
        while i < chars.count, !isSpace(chars[i]), chars[i] != "=" { i += 1 }
        let keyword = String(chars[keywordStart..<i])
        guard !keyword.isEmpty else { throw LexError(message: "missing keyword") }

        // A single `=` may separate the keyword from its value, with spaces either side.
        skipSpace(chars, &i)
        if i < chars.count, chars[i] == "=" {
            i += 1
            skipSpace(chars, &i)
        }
        return (keyword, try arguments(chars, from: i))
    }

    /// The value as written, after the keyword and its separator: what
    /// ProxyCommand takes (a shell command, quotes and all), as OpenSSH does.
    static func rawValue(_ line: Substring) -> String {
        let chars = Array(line)
        var i = 0
        skipSpace(chars, &i)
        while i < chars.count, !isSpace(chars[i]), chars[i] != "=" { i += 1 }
        skipSpace(chars, &i)
        if i < chars.count, chars[i] == "=" { i += 1 }
        skipSpace(chars, &i)
        var end = chars.count
        while end > i, isSpace(chars[end - 1]) { end -= 1 }
        return String(chars[i..<end])
    }

    private static func arguments(_ chars: [Character], from start: Int) throws(LexError) -> [String] {
        var args: [String] = []
        var i = start
        while true {
            skipSpace(chars, &i)
            guard i < chars.count, chars[i] != "#" else { return args }
            var arg = ""
            while i < chars.count, !isSpace(chars[i]) {
                let c = chars[i]
                i += 1
                if c == "\"" || c == "'" {
                    arg += try quoted(chars, &i, quote: c)
                } else if c == "\\", i < chars.count, isEscapable(chars[i]) {
                    arg.append(chars[i])
                    i += 1
                } else {
                    arg.append(c)
                }
            }
            args.append(arg)
        }
    }

    /// Reads up to the closing quote; `\"` and `\\` escape inside.
    private static func quoted(_ chars: [Character], _ i: inout Int, quote: Character) throws(LexError) -> String {
        var s = ""
        while i < chars.count {
            let c = chars[i]
            i += 1
            if c == quote { return s }
            if c == "\\", i < chars.count, chars[i] == quote || chars[i] == "\\" {
                s.append(chars[i])
                i += 1
            } else {
                s.append(c)
            }
        }
        throw LexError(message: "unterminated quote")
    }

    private static func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\r" }
    private static func isEscapable(_ c: Character) -> Bool { isSpace(c) || c == "\\" || c == "\"" || c == "'" }

    private static func skipSpace(_ chars: [Character], _ i: inout Int) {
        while i < chars.count, isSpace(chars[i]) { i += 1 }
    }
}
