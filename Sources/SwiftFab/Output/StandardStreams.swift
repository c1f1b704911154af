import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes to this process's stdout and stderr.
///
/// With write(2), not FileHandle: FileHandle traps when the reader is gone
/// (`swiftfab deploy | head`), which would leave a deploy's lock and slots
/// as a crash leaves them. A closed output is instead an interrupt, as a
/// SIGPIPE would be by default, but with the cleanup a Ctrl-C gets: the
/// commands that run stop, the cleanup runs, the exit status is 141.
public enum StandardStreams {
    private static let closed = Closed()

    public static func write(_ text: String, to stream: StdStream = .stdout) {
        write(Array(text.utf8), to: stream == .stdout ? STDOUT_FILENO : STDERR_FILENO)
    }

    static func write(_ bytes: [UInt8], to fd: Int32) {
        guard !closed.contains(fd) else { return }
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, bytes.count - done) }
            if written > 0 { done += written; continue }
            switch errno {
            case EINTR: continue
            case EAGAIN:
                // Someone left the descriptor non-blocking (a shared terminal): wait until it drains.
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, 1000)
            case EPIPE:
                if closed.insert(fd) { Interrupt.outputClosed(stderr: fd == STDERR_FILENO) }
                return
            default:
                return  // a full disk or a revoked terminal: the run's log file still has it
            }
        }
    }

    private final class Closed: @unchecked Sendable {
        private let lock = NSLock()
        private var descriptors: Set<Int32> = []
        func contains(_ fd: Int32) -> Bool { lock.withLock { descriptors.contains(fd) } }
        /// True the first time `fd` is seen closed.
        func insert(_ fd: Int32) -> Bool { lock.withLock { descriptors.insert(fd).inserted } }
    }
}

/// The system's write(2), not a method of the same name.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}
