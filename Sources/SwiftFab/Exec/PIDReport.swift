/// Finds the login shell's `swiftfab-pid:N` line in what it prints first,
/// keeping at most one line's start in memory: anything that cannot be that
/// line is handed back at once, however much comes before it.
struct PIDReport {
    static let markerText = "swiftfab-pid:"
    static let marker = Array(markerText.utf8)
    /// The marker, a pid's digits and a `\r` (a terminal's line end).
    static let longest = marker.count + 20

    private(set) var pid: Int?
    /// The start of a line that may still be the report.
    private var candidate: [UInt8] = []
    /// Inside a line that is not the report: everything up to its end is output.
    private var inOtherLine = false

    /// Takes a chunk; returns the bytes that are output (all of them once the pid is known).
    mutating func take(_ chunk: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var index = chunk.startIndex
        while pid == nil && index < chunk.endIndex {
            let newline = chunk[index...].firstIndex(of: UInt8(ascii: "\n"))
            let lineEnd = newline ?? chunk.endIndex
            let next = newline.map { $0 + 1 } ?? chunk.endIndex
            if !inOtherLine {
                // At most one byte more than the report can hold: enough to tell it is not the report.
                let piece = chunk[index..<min(lineEnd, index + Self.longest - candidate.count + 1)]
                candidate += piece
                if candidate.count <= Self.longest && Self.mayBeReport(candidate) {
                    if newline == nil { index = next; continue }  // all of it taken: the line goes on in the next chunk
                    if let number = Self.pid(candidate) { pid = number; candidate = []; index = next; break }
                }
                output += candidate
                candidate = []
                index += piece.count
            }
            // The rest of a line that is not the report.
            output += chunk[index..<next]
            inOtherLine = newline == nil
            index = next
        }
        if index < chunk.endIndex { output += chunk[index...] }
        return output
    }

    static func mayBeReport(_ line: [UInt8]) -> Bool {
        for (offset, byte) in line.enumerated() {
            if offset < marker.count { if byte != marker[offset] { return false } }
            else if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) && !(byte == UInt8(ascii: "\r") && offset == line.count - 1) { return false }
        }
        return true
    }

    static func pid(_ line: [UInt8]) -> Int? {
        var digits = line.dropFirst(marker.count)
        if digits.last == UInt8(ascii: "\r") { digits = digits.dropLast() }
        guard line.starts(with: marker), !digits.isEmpty else { return nil }
        return Int(String(decoding: digits, as: UTF8.self))
    }
}
