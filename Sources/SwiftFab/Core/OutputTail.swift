import Foundation

/// The last `limit` bytes of an output stream and a count of the bytes
/// before them, so a command that prints without end costs bounded memory.
/// Storage grows with the output up to `limit`, then wraps around: each
/// chunk is copied once, whatever the stream's length.
struct OutputTail {
    let limit: Int
    private var ring: [UInt8] = []
    /// Where the oldest byte sits once the ring is full.
    private var oldest = 0
    private(set) var dropped: Int64 = 0

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        var input = bytes[...]
        if input.count >= limit {
            dropped += Int64(ring.count + input.count - limit)
            ring = Array(input.suffix(limit))
            oldest = 0
            return
        }
        if ring.count < limit {
            let taken = min(limit - ring.count, input.count)
            if ring.count + taken > ring.capacity {
                ring.reserveCapacity(min(limit, max(ring.count + taken, ring.capacity * 2)))
            }
            ring.append(contentsOf: input.prefix(taken))
            input = input.dropFirst(taken)
        }
        // Full: overwrite the oldest bytes, wrapping at the end.
        dropped += Int64(input.count)
        while !input.isEmpty {
            let run = min(input.count, limit - oldest)
            ring.withUnsafeMutableBufferPointer { storage in
                _ = memcpy(storage.baseAddress! + oldest, input.base.baseAddress! + input.startIndex, run)
            }
            input = input.dropFirst(run)
            oldest = (oldest + run) % limit
        }
    }

    /// The kept bytes, oldest first.
    var data: Data {
        var data = Data(capacity: ring.count)
        data.append(contentsOf: ring[oldest...])
        data.append(contentsOf: ring[..<oldest])
        return data
    }
}
