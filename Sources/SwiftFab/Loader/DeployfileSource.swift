import Foundation

/// The Deployfile's text, with just enough of Swift's syntax (strings,
/// comments, brackets) to say which call a compiler error is about and what
/// its arguments are. Lines count from 1 and columns in bytes from 1, as
/// the compiler counts them.
struct DeployfileSource {
    /// A call as written: `Name(label: value, ...) { ... }`.
    struct Call {
        var name: String
        var nameStart: Int
        /// The offsets of `(` and its `)`; nil for `Name { ... }`.
        var parentheses: ClosedRange<Int>?
        var arguments: [Argument]
        /// The offsets of the trailing closure's `{` and `}`.
        var closure: ClosedRange<Int>?
        var hasTrailingClosure: Bool { closure != nil }
        /// From the name to the `)`: where this call's own errors are.
        var span: ClosedRange<Int> { nameStart...(parentheses?.upperBound ?? nameStart + name.utf8.count) }
    }

    struct Argument: Equatable {
        var label: String?
        var text: String
    }

    let bytes: [UInt8]
    private let lineStarts: [Int]
    /// Whether each byte is code, not inside a string or a comment.
    private let isCode: [Bool]
    private let isComment: [Bool]
    /// The offset of each code `(`'s matching `)`, and of each `{`'s `}`.
    private let closing: [Int: Int]
    private let closingBrace: [Int: Int]

    init(_ data: Data) {
        let bytes = Array(data)
        self.bytes = bytes
        lineStarts = [0] + bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }.map { $0 + 1 }
        let marks = SourceMarks(bytes)
        (isCode, isComment, closing, closingBrace) = (marks.isCode, marks.isComment, marks.closing, marks.closingBrace)
    }

    func offset(line: Int, column: Int) -> Int? {
        guard line >= 1, line <= lineStarts.count, column >= 1 else { return nil }
        let offset = lineStarts[line - 1] + column - 1
        return offset < bytes.count ? offset : nil
    }

    func line(of offset: Int) -> Int { lineStarts.lastIndex { $0 <= offset }.map { $0 + 1 } ?? 1 }

    func column(of offset: Int) -> Int { offset - lineStarts[line(of: offset) - 1] + 1 }

    /// The identifier that starts at `offset`.
    func identifier(at offset: Int) -> String? {
        guard offset < bytes.count, isCode[offset], Self.isIdentifierStart(bytes[offset]),
              offset == 0 || !Self.isIdentifierByte(bytes[offset - 1]) else { return nil }
        var end = offset
        while end < bytes.count, Self.isIdentifierByte(bytes[end]) { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    /// The first word of code from `offset` (a keyword such as `while`).
    func word(at offset: Int) -> String? {
        guard offset < bytes.count, Self.isIdentifierStart(bytes[offset]) else { return nil }
        var end = offset
        while end < bytes.count, Self.isIdentifierByte(bytes[end]) { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    /// The call the compiler means at `offset`: the one whose name is there
    /// or just before it (at its `(` or `{`), else the innermost one whose
    /// parentheses hold it (at an argument, or at the `)`).
    func call(at offset: Int) -> Call? {
        var start = offset
        while start > 0, isCode[start - 1], Self.isIdentifierByte(bytes[start - 1]) { start -= 1 }
        if let named = call(namedAt: start), named.parentheses != nil || named.hasTrailingClosure { return named }
        // Not a name being called (an argument's label or value): the call around it.
        let around = closing.filter { $0.key < offset && offset <= $0.value }.max { $0.key < $1.key }
        guard let open = around?.key else { return nil }
        start = open
        while start > 0, isCode[start - 1], Self.isIdentifierByte(bytes[start - 1]) { start -= 1 }
        return start < open ? call(namedAt: start) : nil
    }

    /// The call whose name starts at `start`.
    private func call(namedAt start: Int) -> Call? {
        guard let name = identifier(at: start) else { return nil }
        let open = start + name.utf8.count
        if open < bytes.count, bytes[open] == UInt8(ascii: "("), let close = closing[open] {
            return Call(name: name, nameStart: start, parentheses: open...close, arguments: arguments(open + 1, close), closure: closure(after: close))
        }
        return Call(name: name, nameStart: start, parentheses: nil, arguments: [], closure: closure(after: open - 1))
    }

    /// The arguments between `start` and `end`, cut at the commas outside brackets and strings.
    private func arguments(_ start: Int, _ end: Int) -> [Argument] {
        var pieces: [Range<Int>] = []
        var depth = 0, from = start
        for index in start..<end where isCode[index] {
            switch bytes[index] {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ",") where depth == 0:
                pieces.append(from..<index)
                from = index + 1
            default: break
            }
        }
        pieces.append(from..<end)
        return pieces.compactMap { range in
            let uncommented = range.filter { !isComment[$0] }.map { bytes[$0] }
            let text = String(decoding: uncommented, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { return nil }
            return Argument(label: Self.label(of: text), text: text)
        }
    }

    /// `name` in `name: value`.
    private static func label(of argument: String) -> String? {
        let utf8 = Array(argument.utf8)
        guard let first = utf8.first, isIdentifierStart(first) else { return nil }
        var end = 0
        while end < utf8.count, isIdentifierByte(utf8[end]) { end += 1 }
        var colon = end
        while colon < utf8.count, utf8[colon] == UInt8(ascii: " ") { colon += 1 }
        guard colon < utf8.count, utf8[colon] == UInt8(ascii: ":"), colon + 1 == utf8.count || utf8[colon + 1] != UInt8(ascii: ":") else { return nil }
        return String(decoding: utf8[..<end], as: UTF8.self)
    }

    /// The `{ ... }` right after `offset` (past blanks and comments), if that is what comes next.
    private func closure(after offset: Int) -> ClosedRange<Int>? {
        var index = offset + 1
        while index < bytes.count, isComment[index] || [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[index]) {
            index += 1
        }
        guard index < bytes.count, isCode[index], let end = closingBrace[index] else { return nil }
        return index...end
    }

    /// The first statement in the block `braces` that a result builder's
    /// block cannot hold (a loop other than for-in, an early exit), outside
    /// the closures and calls in it: its keyword and offset.
    func controlFlowStatement(in braces: ClosedRange<Int>) -> (keyword: String, offset: Int)? {
        let keywords: Set = ["while", "repeat", "guard", "return", "break", "continue"]
        let builderBlocks: Set = ["if", "else", "for", "switch", "case", "default", "do"]
        for offset in braces.lowerBound + 1..<braces.upperBound where isCode[offset] {
            guard let word = firstWord(ofLineAt: offset), word.offset == offset, keywords.contains(word.text) else { continue }
            // Inside a call's parentheses, or a closure's braces (a Dynamic step's), plain Swift is fine.
            if closing.contains(where: { braces.lowerBound < $0.key && $0.key < offset && offset < $0.value }) { continue }
            let enclosing = closingBrace.filter { braces.lowerBound < $0.key && $0.key < offset && offset < $0.value }
            if enclosing.contains(where: { !builderBlocks.contains(firstWord(ofLineAt: $0.key)?.text ?? "") }) { continue }
            return (word.text, offset)
        }
        return nil
    }

    /// The line's first word, past blanks and closing braces (`} else {` starts with `else`).
    private func firstWord(ofLineAt offset: Int) -> (text: String, offset: Int)? {
        var index = lineStarts[line(of: offset) - 1]
        while index < bytes.count, [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "}")].contains(bytes[index]) { index += 1 }
        return word(at: index).map { ($0, index) }
    }

    /// The statement from `offset` to its line's end, shortened: `Name(...)`
    /// for a call, else at most 40 characters.
    func quote(at offset: Int) -> String {
        if let call = call(namedAt: offset), call.parentheses != nil { return call.name + "(...)" }
        let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        let text = String(decoding: bytes[offset..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return text.count > 40 ? String(text.prefix(39)) + "…" : text
    }

    /// Whether the file imports `module`.
    func imports(_ module: String) -> Bool {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains {
            $0.split(separator: " ", omittingEmptySubsequences: true).prefix(2).elementsEqual(["import", Substring(module)])
        }
    }

    /// The offset of `let deployfile` (or `var`), if the file declares it.
    func deployfileDeclaration() -> Int? {
        let text = String(decoding: bytes, as: UTF8.self)
        for keyword in ["let deployfile", "var deployfile"] {
            var searchFrom = text.startIndex
            while let found = text.range(of: keyword, range: searchFrom..<text.endIndex) {
                let offset = text.utf8.distance(from: text.startIndex, to: found.lowerBound)
                let after = text.utf8.distance(from: text.startIndex, to: found.upperBound)
                if isCode[offset], after >= bytes.count || !Self.isIdentifierByte(bytes[after]) { return offset }
                searchFrom = found.upperBound
            }
        }
        return nil
    }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
