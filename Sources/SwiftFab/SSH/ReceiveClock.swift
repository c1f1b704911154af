internal import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When a session last received bytes from its socket, whoever read them.
///
/// libssh2 reads the answer to a keepalive inside whatever call comes next
/// (a channel read, a write); when the answer is already there, the socket
/// is never seen ready and the answer would go uncounted: a quiet command on
/// a healthy host would be taken for a silent one. So the session's socket
/// reads go through `receive`, which notes the time of each read that got
/// bytes. Used only from the session's worker thread, as libssh2 is.
final class ReceiveClock {
    private(set) var last = monotonicNow()

    /// As if the last bytes had come `seconds` earlier (tests: an idle connection without the wait).
    func backdate(by seconds: Double) { last -= seconds }

    /// Installs the counting read on `session`, whose abstract pointer is this clock.
    func install(on session: OpaquePointer) {
        _ = libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, unsafeBitCast(Self.receive, to: UnsafeMutableRawPointer.self))
    }

    /// The pointer libssh2 hands back to `receive` (the session does not retain it: the session object owns both).
    var abstract: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// libssh2's own socket read (errors as negative errno, EWOULDBLOCK as EAGAIN), timed.
    private static let receive: @convention(c) (libssh2_socket_t, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int = {
        socket, buffer, length, flags, abstract in
        let count = recv(socket, buffer, length, flags)
        if count < 0 {
            let code = errno
            return -Int(code == EWOULDBLOCK || code == ENOENT ? EAGAIN : code)
        }
        if count > 0, let clock = abstract?.pointee {
            Unmanaged<ReceiveClock>.fromOpaque(clock).takeUnretainedValue().last = monotonicNow()
        }
        return count
    }
}
