internal import CLibSSH2
import Foundation

/// One libssh2 session over one socket, used only from its connection's
/// worker thread. The session is non-blocking: every call goes through
/// `call`, which waits on the socket when libssh2 says EAGAIN, so that
/// time-outs, keepalives and two-stream reads all work.
final class SSHSession {
    let raw: OpaquePointer
    let fd: Int32
    let label: String
    /// The deadline of the operation in progress, in `monotonicNow()` time.
    var deadline: Double = .infinity
    var operation = "connecting"
    /// ServerAliveInterval/CountMax: probe a silent peer, give up after interval x count.
    /// When set, each wake-up with the socket ready pushes the deadline this
    /// far ahead: long transfers fail only when nothing moves for that long.
    var idleTimeout: Double?
    var keepaliveInterval: Double = 0
    var keepaliveCountMax = 3
    /// The channel of the guardian that stops this connection's commands if it is lost.
    var guardian: OpaquePointer?
    /// The ProxyCommand carrying this session, if any: hung up with it.
    var proxy: ProxyCommandProcess?
    /// While a command or transfer runs: the interrupt count when it started.
    var interruptMark: Int?
    private var lastInbound = monotonicNow()
    /// Every read of the socket that got bytes, keepalive answers included.
    private let received = ReceiveClock()
    /// Set once keepalives found the peer gone; nothing more is waited for.
    private(set) var peerSilent = false

    init(fd: Int32, label: String) throws {
        _ = LibSSH2.initialized
        guard let session = libssh2_session_init_ex(nil, nil, nil, received.abstract) else {
            throw SwiftFabError(.connection, host: label, "cannot create an SSH session (out of memory?)")
        }
        raw = session
        received.install(on: session)
        self.fd = fd
        self.label = label
        libssh2_session_set_blocking(session, 0)
    }

    deinit {
        libssh2_session_free(raw)
        close(fd)
        proxy?.hangUp()
    }

    /// Politely ends the session (best effort, bounded).
    func disconnect() {
        deadline = monotonicNow() + 1
        _ = try? call("disconnecting") { libssh2_session_disconnect_ex(raw, SSH_DISCONNECT_BY_APPLICATION, "bye", "") }
    }

    /// The message libssh2 left for its last error.
    var lastError: (code: Int32, message: String) {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(raw, &message, &length, 0)
        return (code, message.map { String(cString: $0) } ?? "unknown error")
    }

    /// Blocks until the socket is ready in the directions libssh2 is waiting for,
    /// or `input` (a command's stdin source) has something to read.
    /// Throws once the operation's deadline passes, or the peer has been silent too long.
    func waitSocket(orReadable input: Int32? = nil) throws {
        let directions = libssh2_session_block_directions(raw)
        try checkDeadlineAndInterrupt()
        let now = monotonicNow()
        var wait = min(deadline - now, 3600)
        if interruptMark != nil { wait = min(wait, Descriptor.interruptPoll) }
        if keepaliveInterval > 0 {
            // Wake to send the next keepalive, or the moment the silence becomes too long.
            let giveUp = heardFrom + silenceLimit - now
            wait = min(wait, keepaliveInterval, max(giveUp, 0.001))
        }
        let read = directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0
        let write = directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
        let ready = Descriptor.wait(fd, read: read || !write, write: write, orReadable: input, milliseconds: Int32(wait * 1000) + 1)
        if ready.fd {
            // Readable, or writable again after a full send buffer: the peer answers.
            if let idleTimeout { deadline = monotonicNow() + idleTimeout }
            if read { Socket.quickAck(fd) }
            lastInbound = monotonicNow()
        } else if keepaliveInterval > 0 {
            try checkAlive()
        }
    }

    /// Throws once the operation's deadline has passed or a signal arrived
    /// since it started. Called while waiting, and between reads of output
    /// that never pauses (`yes`), where no wait ever comes.
    func checkDeadlineAndInterrupt() throws {
        if deadline - monotonicNow() <= 0 { throw timeoutError() }
        if let mark = interruptMark, Interrupt.count > mark {
            // Once: what runs after this (the cleanup) must not be stopped by the same signal.
            interruptMark = nil
            throw Interrupt.error(host: label, "stopped while \(operation); what it started on the host is stopped too (its whole process group)")
        }
    }

    /// How long the peer may stay silent, as OpenSSH counts it: a probe after
    /// each ServerAliveInterval of silence, and the connection given up when
    /// one more would exceed ServerAliveCountMax unanswered probes. libssh2
    /// probes at most every 2 s and counts whole seconds, so its interval is
    /// taken as at least 2 s, and a second more is allowed for its clock.
    var silenceLimit: Double { max(2, keepaliveInterval) * Double(keepaliveCountMax + 1) + 1 }

    /// Sends a keepalive when due; fails once the peer has been silent for `silenceLimit`.
    func checkAlive() throws {
        let silent = monotonicNow() - heardFrom
        if silent >= silenceLimit {
            peerSilent = true
            throw SwiftFabError(.connection, host: label,
                                "the host stopped answering while \(operation): no answer for \(Format.seconds(silent)) "
                                    + "(\(keepaliveCountMax) probes unanswered: ServerAliveInterval \(Int(keepaliveInterval)), ServerAliveCountMax \(keepaliveCountMax))",
                                hint: "check that the host is up and reachable, then run again; for a host that is slow to answer, "
                                    + "raise ServerAliveInterval or ServerAliveCountMax in the ssh config (ServerAliveInterval 0 waits forever)")
        }
        // libssh2 sends only when ServerAliveInterval has passed since the last one.
        var next: Int32 = 0
        _ = libssh2_keepalive_send(raw, &next)
    }

    /// As if nothing had come from the host for `seconds` more (tests: an
    /// idle connection, without waiting for it).
    func backdateHeardFrom(by seconds: Double) {
        lastInbound -= seconds
        received.backdate(by: seconds)
    }

    /// The last sign of life: the socket seen ready, or bytes read from it.
    private var heardFrom: Double { max(lastInbound, received.last) }

    /// Data arrived (the caller read some): the peer is alive.
    func noteInbound() {
        lastInbound = monotonicNow()
        if let idleTimeout { deadline = lastInbound + idleTimeout }
    }

    /// Starts an operation whose only limit is inactivity (transfers).
    func beginIdleLimited(_ what: String, idle: Double = 60) {
        operation = what
        idleTimeout = idle
        deadline = monotonicNow() + idle
        noteInbound()
    }

    func timeoutError() -> SwiftFabError {
        SwiftFabError(.timeout, host: label, "timed out while \(operation)",
                      hint: "the host or network is slow or stuck; raise the timeout or check the host")
    }

    /// Runs a libssh2 call until it stops saying EAGAIN; a negative result
    /// becomes an error naming `what`.
    @discardableResult
    func call(_ what: String, _ body: () -> Int32) throws -> Int32 {
        while true {
            let rc = body()
            if rc == LIBSSH2_ERROR_EAGAIN {
                try waitSocket()
                continue
            }
            if rc < 0 { throw failure(what) }
            return rc
        }
    }

    /// The same for calls that return a pointer (NULL with EAGAIN means retry).
    func callPointer<T>(_ what: String, _ body: () -> T?) throws -> T {
        while true {
            if let value = body() { return value }
            if libssh2_session_last_errno(raw) == LIBSSH2_ERROR_EAGAIN {
                try waitSocket()
                continue
            }
            throw failure(what)
        }
    }

    func failure(_ what: String) -> SwiftFabError {
        let (code, message) = lastError
        if code == LIBSSH2_ERROR_SOCKET_DISCONNECT || code == LIBSSH2_ERROR_SOCKET_RECV || code == LIBSSH2_ERROR_SOCKET_SEND {
            return SwiftFabError(.connection, host: label, "connection lost while \(what): \(message)",
                                 hint: "the server closed the connection; check the host and run again")
        }
        return SwiftFabError(.connection, host: label, "\(what) failed: \(message) (libssh2 error \(code))")
    }

    // MARK: - Handshake and host key

    /// The server's host key: its type name and raw blob.
    var hostKey: (type: String, blob: [UInt8])? {
        var length = 0
        var type: Int32 = 0
        guard let pointer = libssh2_session_hostkey(raw, &length, &type) else { return nil }
        let blob = pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        return (LibSSH2.keyType(ofBlob: blob) ?? "unknown", blob)
    }

    /// Runs the SSH handshake, preferring the host key types we already know
    /// for this host (as OpenSSH does), so a host with several keys is checked
    /// against the one in known_hosts.
    func handshake(preferredHostKeyTypes: [String]) throws {
        let supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
        let known = preferredHostKeyTypes.filter(supported.contains)
        let order = known + supported.filter { !known.contains($0) }
        libssh2_session_method_pref(raw, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ","))
        operation = "negotiating the SSH handshake"
        try call("the SSH handshake") { libssh2_session_handshake(raw, libssh2_socket_t(fd)) }
    }
}
