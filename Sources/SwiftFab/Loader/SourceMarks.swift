/// Which bytes of Swift source are code, which are strings and which are
/// comments, and which brackets of code pair up: what a call's arguments
/// and blocks are found with. Interpolations (`\( ... )`) are code inside a
/// string; raw strings (`#"..."#`) are rare in a Deployfile and not told apart.
struct SourceMarks {
    var isCode: [Bool]
    var isComment: [Bool]
    /// The offset of each code `(`'s matching `)`.
    var closing: [Int: Int] = [:]
    /// The offset of each code `{`'s matching `}`.
    var closingBrace: [Int: Int] = [:]

    private enum Context { case code, string(multiline: Bool), interpolation(open: Int) }

    init(_ bytes: [UInt8]) {
        isCode = [Bool](repeating: false, count: bytes.count)
        isComment = [Bool](repeating: false, count: bytes.count)
        var contexts: [Context] = [.code]
        var parentheses: [Int] = [], braces: [Int] = []
        let quote = UInt8(ascii: "\""), slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), newline = UInt8(ascii: "\n")
        func starts(_ text: String, at index: Int) -> Bool {
            let pattern = Array(text.utf8)
            return index + pattern.count <= bytes.count && Array(bytes[index..<index + pattern.count]) == pattern
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch contexts.last! {
            case .code, .interpolation:
                if starts("//", at: index) {
                    while index < bytes.count, bytes[index] != newline { isComment[index] = true; index += 1 }
                } else if byte == slash, index + 1 < bytes.count, bytes[index + 1] == star {
                    let start = index
                    index += 2
                    while index < bytes.count, !(bytes[index] == star && index + 1 < bytes.count && bytes[index + 1] == slash) { index += 1 }
                    index = min(index + 2, bytes.count)
                    for commented in start..<index { isComment[commented] = true }
                } else if starts("\"\"\"", at: index) {
                    contexts.append(.string(multiline: true))
                    index += 3
                } else if byte == quote {
                    contexts.append(.string(multiline: false))
                    index += 1
                } else {
                    isCode[index] = true
                    switch byte {
                    case UInt8(ascii: "("): parentheses.append(index)
                    case UInt8(ascii: "{"): braces.append(index)
                    case UInt8(ascii: "}"): if let open = braces.popLast() { closingBrace[open] = index }
                    case UInt8(ascii: ")"):
                        guard let open = parentheses.popLast() else { break }
                        if case .interpolation(let start) = contexts.last!, start == open {
                            isCode[index] = false  // the interpolation ends: back in the string
                            contexts.removeLast()
                        } else {
                            closing[open] = index
                        }
                    default: break
                    }
                    index += 1
                }
            case .string(let multiline):
                if byte == UInt8(ascii: "\\") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "(") {
                        parentheses.append(index + 1)
                        contexts.append(.interpolation(open: index + 1))
                    }
                    index += 2
                } else if multiline ? starts("\"\"\"", at: index) : (byte == quote || byte == newline) {
                    contexts.removeLast()
                    index += multiline ? 3 : 1
                } else {
                    index += 1
                }
            }
        }
    }
}
