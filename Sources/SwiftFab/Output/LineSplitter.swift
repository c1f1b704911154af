import Foundation

/// Cuts a byte stream into lines, holding a partial last line until its
/// newline arrives (or the stream ends). A line longer than `maxLine` comes
/// out in pieces, so output without newlines costs bounded memory.
struct LineSplitter {
    static let defaultMaxLine = 64 << 10
    private let maxLine: Int
    /// Byte strings a piece never ends inside (secrets, so that redacting
    /// each piece still finds them whole).
    private let keepWhole: [[UInt8]]
    /// Bytes held beyond `maxLine` to see what the cut would split (a UTF-8
    /// character, a kept-whole string); a last piece may use them too.
    private let lookahead: Int
    private var partial: [UInt8] = []

    init(maxLine: Int = LineSplitter.defaultMaxLine, keepWhole: [[UInt8]] = []) {
        self.maxLine = max(4, maxLine)
        self.keepWhole = keepWhole.filter { !$0.isEmpty }
        lookahead = max(1, (self.keepWhole.map(\.count).max() ?? 0) - 1)
    }

    mutating func feed(_ bytes: Data) -> [String] {
        var lines: [String] = []
        bytes.withUnsafeBytes { raw in
            let input = raw.bindMemory(to: UInt8.self)
            var start = 0
            while start < input.count {
                let found = memchr(input.baseAddress! + start, Int32(UInt8(ascii: "\n")), input.count - start)
                let newline = found.map { input.baseAddress!.distance(to: $0.assumingMemoryBound(to: UInt8.self)) }
                let end = newline ?? input.count
                if partial.isEmpty, newline != nil, end - start <= maxLine {
                    lines.append(Self.line(input[start..<end]))  // the common case: no copy into `partial`
                } else {
                    var from = start
                    while from < end {
                        let taken = min(end - from, maxLine + lookahead - partial.count)
                        partial.append(contentsOf: input[from..<(from + taken)])
                        from += taken
                        if from < end { lines.append(cutPiece()) }  // full, and the line goes on
                    }
                    if newline != nil {
                        lines.append(partial.withUnsafeBufferPointer { Self.line($0[...]) })
                        partial.removeAll(keepingCapacity: partial.capacity <= 4096)
                    }
                }
                start = end + 1
            }
        }
        return lines
    }

    mutating func flush() -> String? {
        defer { partial = [] }
        return partial.isEmpty ? nil : String(decoding: partial, as: UTF8.self)
    }

    private static func line(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        let text = bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes
        return String(decoding: UnsafeBufferPointer(rebasing: text), as: UTF8.self)
    }

    /// Takes the first piece (at most `maxLine` bytes) off a full `partial`.
    private mutating func cutPiece() -> String {
        let cut = Self.cut(partial, at: maxLine, keepWhole: keepWhole)
        let piece = String(decoding: partial[..<cut], as: UTF8.self)
        partial.removeFirst(cut)
        return piece
    }

    /// Where to end a piece near `limit`: not inside a UTF-8 character, not
    /// inside one of `keepWhole` (all of which `bytes` shows, thanks to the lookahead).
    static func cut(_ bytes: [UInt8], at limit: Int, keepWhole: [[UInt8]]) -> Int {
        var cut = limit
        while cut > limit - 3 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        var moved = true
        while moved && cut > limit / 2 {
            moved = false
            for word in keepWhole {
                for start in max(0, cut - word.count + 1)..<cut where start + word.count <= bytes.count
                    && bytes[start..<(start + word.count)].elementsEqual(word) {
                    cut = start
                    moved = true
                    break
                }
            }
        }
        return cut > limit / 2 ? cut : limit
    }
}
