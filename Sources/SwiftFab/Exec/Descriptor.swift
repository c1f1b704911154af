import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Waiting on file descriptors without blocking the loop that drives a
/// command: an SSH session's socket, or a local command's pipes.
enum Descriptor {
    /// How often a wait looks for Ctrl-C (a signal handler cannot wake a poll on another thread).
    static let interruptPoll = 0.2

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// Not inherited by programs started later (a ProxyCommand, a local
    /// command): a connection's socket held open by another child would
    /// never see its end.
    static func setCloseOnExec(_ fds: Int32...) {
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }

    /// Waits until `fd` is ready in the given directions or `milliseconds` pass.
    /// Returns false on time-out.
    @discardableResult
    static func wait(_ fd: Int32, read: Bool, write: Bool, milliseconds: Int32) -> Bool {
        wait(fd, read: read, write: write, orReadable: nil, milliseconds: milliseconds).fd
    }

    /// The same, also waking when `other` has something to read (or is closed).
    static func wait(_ fd: Int32, read: Bool, write: Bool, orReadable other: Int32?, milliseconds: Int32) -> (fd: Bool, other: Bool) {
        var events: Int16 = 0
        if read { events |= Int16(POLLIN) }
        if write { events |= Int16(POLLOUT) }
        // A tuple, not an array: no allocation on this hot path.
        var fds = (pollfd(fd: fd, events: events, revents: 0), pollfd(fd: other ?? -1, events: Int16(POLLIN), revents: 0))
        let ready = withUnsafeMutableBytes(of: &fds) { raw in
            poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), other == nil ? 1 : 2, milliseconds)
        }
        guard ready > 0 else { return (false, false) }
        return (fds.0.revents != 0, fds.1.revents != 0)
    }
}
