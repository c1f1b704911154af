import Foundation

/// Cuts a byte stream into lines, holding a partial last line until its
/// newline arrives (or the stream ends).
struct LineSplitter {
    private var partial = Data()

    mutating func feed(_ bytes: Data) -> [String] {
        partial.append(bytes)
        var lines: [String] = []
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            var line = partial[partial.startIndex..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            lines.append(String(decoding: line, as: UTF8.self))
            partial = Data(partial[(newline + 1)...])
        }
        return lines
    }

    mutating func flush() -> String? {
        defer { partial = Data() }
        return partial.isEmpty ? nil : String(decoding: partial, as: UTF8.self)
    }
}
