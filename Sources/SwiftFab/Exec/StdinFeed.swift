import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What is still to be written to a command's stdin: fixed bytes first
/// (secret lines, `ExecOptions.stdin`), then a `StdinSource` read one chunk
/// at a time, never faster than the command takes it.
struct StdinFeed {
    enum State { case ready, waiting, ended }

    private let head: Data
    private var headOffset = 0
    private let source: StdinSource?
    private var sourceOffset: Int64
    private var sourceEnded = false
    /// One reused chunk; `start..<end` is not written yet.
    private var chunk: [UInt8] = []
    private var start = 0
    private var end = 0
    /// The last `fill` found the source with nothing to read yet.
    private(set) var isWaiting = false
    /// Reading the source failed: the command must not take what it got as the whole input.
    private(set) var failure: SwiftFabError?

    static let chunkSize = 65536

    init(head: Data, source: StdinSource?) {
        self.head = head
        self.source = source
        sourceOffset = source?.offset ?? 0
    }

    /// Makes bytes ready if some can be had without blocking; `.ended` also
    /// after a read error (then `failure` is set).
    mutating func fill() -> State {
        isWaiting = false
        if headOffset < head.count || start < end { return .ready }
        guard let source, !sourceEnded else { return .ended }
        // A pipe may have nothing yet: never block on it (output must keep flowing).
        if source.offset == nil && !Descriptor.wait(source.fd, read: true, write: false, milliseconds: 0) {
            isWaiting = true
            return .waiting
        }
        if chunk.isEmpty { chunk = [UInt8](repeating: 0, count: Self.chunkSize) }
        let count = chunk.withUnsafeMutableBytes { raw in
            source.offset == nil ? read(source.fd, raw.baseAddress, raw.count)
                                 : pread(source.fd, raw.baseAddress, raw.count, off_t(sourceOffset))
        }
        if count > 0 {
            start = 0
            end = count
            sourceOffset += Int64(count)
            return .ready
        }
        if count == 0 {
            sourceEnded = true
            return .ended
        }
        if errno == EINTR || errno == EAGAIN {
            isWaiting = true
            return .waiting
        }
        failure = SwiftFabError(.local, "cannot read the input for the command: \(String(cString: strerror(errno)))",
                                hint: "check what is piped into swiftfab")
        sourceEnded = true
        return .ended
    }

    /// Gives the bytes ready to write (after `fill` said `.ready`); returns what `body` returns.
    func withPending<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if headOffset < head.count {
            return head.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[headOffset...])) }
        }
        return chunk.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    /// `count` bytes of the pending ones were written.
    mutating func consume(_ count: Int) {
        if headOffset < head.count { headOffset += count } else { start += count }
    }

    /// The command will take no more input (it closed its stdin): stop reading.
    mutating func abandon() {
        headOffset = head.count
        start = end
        sourceEnded = true
    }

    /// The descriptor to wait on while the source has nothing to read.
    var waitDescriptor: Int32? { isWaiting ? source?.fd : nil }
}
