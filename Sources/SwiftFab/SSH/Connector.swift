internal import CLibSSH2
import Foundation

/// Builds an authenticated, verified session for a resolved host: socket
/// (direct or through ProxyJump hops), handshake, host key check, auth.
struct Connector {
    let config: SSHConfig
    let options: ConnectionOptions

    func establish(_ host: ResolvedHost) throws -> SSHSession {
        let start = monotonicNow()
        let (session, verifier) = try handshake(host)
        Log.ssh.debug("handshake done", metadata: ["host": "\(host.alias)", "ms": "\(Int((monotonicNow() - start) * 1000))"])
        guard let key = session.hostKey else { throw session.failure("reading the host key") }
        try verifier.verify(type: key.type, blob: key.blob)
        session.deadline = monotonicNow() + max(timeout(host), 30)
        try Authenticator(session: session, user: host.user, endpoint: HostKeyVerifier.lookupName(host.hostname, port: host.port),
                          host: host, options: options).authenticate()
        Log.ssh.debug("authenticated", metadata: ["host": "\(host.alias)", "user": "\(host.user)", "ms": "\(Int((monotonicNow() - start) * 1000))"])
        let interval = host.effectiveServerAliveInterval
        if interval > 0 {
            libssh2_keepalive_config(session.raw, 1, UInt32(interval))
            session.keepaliveInterval = Double(interval)
            session.keepaliveCountMax = max(1, host.serverAliveCountMax)
            session.noteInbound()
        }
        return session
    }

    /// Connects and shakes hands only: enough to read the host key (`trust`).
    func scanHostKey(_ host: ResolvedHost) throws -> (type: String, blob: [UInt8], verdict: HostKeyVerdict) {
        let (session, verifier) = try handshake(host)
        defer { session.disconnect() }
        guard let key = session.hostKey else { throw session.failure("reading the host key") }
        let verdict = try KnownHosts(paths: verifier.files).check(host: host.hostname, port: host.port, keyType: key.type, key: key.blob)
        return (key.type, key.blob, verdict)
    }

    private func timeout(_ host: ResolvedHost) -> Double { host.connectTimeout ?? options.connectTimeout }

    private func handshake(_ host: ResolvedHost) throws -> (SSHSession, HostKeyVerifier) {
        // Each hop is checked as OpenSSH's ssh for that hop checks its command line: a hop's own
        // ProxyCommand may hold %h or %r. All of them before anything connects.
        do throws(SSHName.Refusal) {
            for hop in host.proxyJump { try SSHName.checkJumpHost(hop) }
        } catch {
            throw error.error
        }
        let timeout = timeout(host)
        let fd: Int32
        var proxy: ProxyCommandProcess?
        Log.ssh.debug("connecting", metadata: ["host": "\(host.alias)", "to": "\(host.hostname):\(host.port)",
                                               "via": "\(host.proxyCommand ?? host.proxyJump.map(\.description).joined(separator: ","))"])
        if host.proxyJump.isEmpty, let command = host.proxyCommand {
            (fd, proxy) = try ProxyCommandProcess.start(command, label: host.alias)
        } else if let jump = host.proxyJump.last {
            // The chain is used as given: the last hop is reached through the ones before it.
            var jumpHost = config.resolve(jump.host, user: jump.user, port: jump.port, environment: options.environment)
            jumpHost.proxyJump = Array(host.proxyJump.dropLast())
            if !jumpHost.proxyJump.isEmpty { jumpHost.proxyCommand = nil }
            let jumpSession = try establish(jumpHost)
            jumpSession.deadline = monotonicNow() + timeout
            fd = try TunnelPump.open(through: jumpSession, to: host.hostname, port: host.port)
        } else {
            fd = try Socket.connect(host: host.hostname, port: host.port, timeout: timeout, label: host.alias, keepAlive: host.tcpKeepAlive)
        }
        let session: SSHSession
        do {
            session = try SSHSession(fd: fd, label: host.alias)
        } catch {
            close(fd)
            proxy?.hangUp()
            throw error
        }
        session.proxy = proxy
        session.deadline = monotonicNow() + timeout
        let verifier = HostKeyVerifier(host: host, strict: options.strictHostKeyChecking ?? host.strictHostKeyChecking)
        do {
            try session.handshake(preferredHostKeyTypes: verifier.knownTypes())
        } catch var error as SwiftFabError where proxy != nil {
            // Whatever broke, the proxy's own words say most: it could not reach the host, or is not installed.
            error.message = "no SSH connection through ProxyCommand: \(error.message)"
            error.hint = proxy!.report(waiting: 1) + "; try the command by hand, with nc or ssh -W"
            throw error
        } catch var error as SwiftFabError where error.kind == .timeout {
            error.message = "no SSH greeting from \(host.hostname) port \(host.port) within \(Format.seconds(timeout))"
            error.hint = "is this an SSH server? check the host and port (ConnectTimeout sets the limit)"
            throw error
        }
        return (session, verifier)
    }
}
