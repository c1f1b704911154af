/// Replaces known byte strings (sudo prompt markers, the sudo password) in a
/// stream of chunks, even when one is split across two chunks, and reports
/// which markers it saw, in order.
struct MarkerFilter {
    private let markers: [[UInt8]]
    private let replacements: [[UInt8]]
    private var held: [UInt8] = []
    private let longest: Int

    /// `replacements[i]` stands in for `markers[i]` (empty: removed).
    init(_ markers: [[UInt8]], replacements: [[UInt8]] = []) {
        self.markers = markers
        self.replacements = markers.indices.map { $0 < replacements.count ? replacements[$0] : [] }
        self.longest = markers.map(\.count).max() ?? 0
    }

    /// Returns the bytes safe to pass on and the indices of markers found.
    mutating func feed(_ bytes: [UInt8]) -> (output: [UInt8], found: [Int]) {
        guard longest > 0 else { return (bytes, []) }
        let data = held + bytes
        var output: [UInt8] = []
        output.reserveCapacity(data.count)
        var found: [Int] = []
        var index = 0
        scan: while index < data.count {
            for (which, marker) in markers.enumerated() where !marker.isEmpty && data[index] == marker[0] {
                let end = index + marker.count
                if end <= data.count {
                    if data[index..<end].elementsEqual(marker) {
                        found.append(which)
                        output += replacements[which]
                        index = end
                        continue scan
                    }
                } else if data[index...].elementsEqual(marker[0..<(data.count - index)]) {
                    // A possible marker runs off the end: hold it for the next chunk.
                    held = Array(data[index...])
                    return (output, found)
                }
            }
            output.append(data[index])
            index += 1
        }
        held = []
        return (output, found)
    }

    /// Whatever is still held back once the stream has ended.
    mutating func flush() -> [UInt8] {
        defer { held = [] }
        return held
    }
}
