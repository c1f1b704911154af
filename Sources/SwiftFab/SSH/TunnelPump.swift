internal import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Carries one ProxyJump hop: bytes between a local socketpair end (which the
/// next SSH session uses as its socket) and a `direct-tcpip` channel of the
/// jump host's session, on a thread of its own.
final class TunnelPump: @unchecked Sendable {
    private let session: SSHSession
    private let channel: OpaquePointer
    private let local: Int32

    /// Opens the channel to `host:port` through `session` and returns the
    /// socket the next session should use.
    static func open(through session: SSHSession, to host: String, port: Int) throws -> Int32 {
        session.operation = "opening a tunnel to \(host) port \(port)"
        let channel: OpaquePointer
        do {
            channel = try session.callPointer("opening a tunnel to \(host) port \(port)") {
                libssh2_channel_direct_tcpip_ex(session.raw, host, Int32(port), "127.0.0.1", 22)
            }
        } catch var error as SwiftFabError {
            error.hint = "the jump host \(session.label) could not reach \(host) port \(port); check that it can, and that it allows TCP forwarding"
            throw error
        }
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Socket.stream, 0, &pair) == 0 else {
            throw SwiftFabError(.local, "cannot create a socket pair: \(String(cString: strerror(errno)))")
        }
        Descriptor.setNonBlocking(pair[0])
        Descriptor.setNonBlocking(pair[1])
        Descriptor.setCloseOnExec(pair[0], pair[1])
        let pump = TunnelPump(session: session, channel: channel, local: pair[0])
        let thread = Thread { pump.run() }
        thread.name = "swiftfab-jump-\(session.label)"
        thread.stackSize = 1 << 20
        thread.start()
        return pair[1]
    }

    private init(session: SSHSession, channel: OpaquePointer, local: Int32) {
        self.session = session
        self.channel = channel
        self.local = local
    }

    private func run() {
        var toChannel: [UInt8] = []
        var toLocal: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        session.deadline = .infinity
        loop: while true {
            var progressed = false
            if toChannel.isEmpty {
                let count = read(local, &buffer, buffer.count)
                if count == 0 || (count < 0 && errno != EAGAIN) { break loop } // the inner session is gone
                if count > 0 { toChannel = Array(buffer[0..<count]); progressed = true }
            }
            if !toChannel.isEmpty {
                let written = toChannel.withUnsafeBytes {
                    libssh2_channel_write_ex(channel, 0, $0.baseAddress!.assumingMemoryBound(to: CChar.self), toChannel.count)
                }
                if written > 0 { toChannel.removeFirst(written); progressed = true }
                else if written != Int(LIBSSH2_ERROR_EAGAIN) { break loop }
            }
            if toLocal.isEmpty {
                let count = buffer.withUnsafeMutableBytes {
                    libssh2_channel_read_ex(channel, 0, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
                }
                if count > 0 { toLocal = Array(buffer[0..<count]); progressed = true }
                else if count == 0 && libssh2_channel_eof(channel) != 0 { break loop }
                else if count < 0 && count != Int(LIBSSH2_ERROR_EAGAIN) { break loop }
            }
            if !toLocal.isEmpty {
                let written = write(local, toLocal, toLocal.count)
                if written > 0 { toLocal.removeFirst(written); progressed = true }
                else if written < 0 && errno != EAGAIN { break loop }
            }
            if !progressed { waitForEither(localRead: toChannel.isEmpty, localWrite: !toLocal.isEmpty) }
        }
        shutdown(local, Int32(SHUT_RDWR))
        close(local)
        session.deadline = monotonicNow() + 1
        _ = try? session.call("closing the tunnel") { libssh2_channel_close(channel) }
        session.freeChannel(channel)
        session.disconnect()
    }

    private func waitForEither(localRead: Bool, localWrite: Bool) {
        let directions = libssh2_session_block_directions(session.raw)
        var localEvents: Int16 = 0
        if localRead { localEvents |= Int16(POLLIN) }
        if localWrite { localEvents |= Int16(POLLOUT) }
        var remoteEvents = Int16(POLLIN)
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { remoteEvents |= Int16(POLLOUT) }
        var fds = [pollfd(fd: local, events: localEvents, revents: 0), pollfd(fd: session.fd, events: remoteEvents, revents: 0)]
        if poll(&fds, 2, 1000) > 0, fds[1].revents & Int16(POLLIN) != 0 {
            Socket.quickAck(session.fd)
        }
    }
}
