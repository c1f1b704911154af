internal import CLibSSH2
import Foundation

/// One SSH connection to one host: a single libssh2 session reused for
/// every command (a new channel each), owned by a dedicated thread.
public final class SSHConnection: Backend, @unchecked Sendable {
    public let host: String
    public let resolved: ResolvedHost
    private let connector: Connector
    private let worker: WorkerThread
    // Touched only on `worker`'s thread.
    private var session: SSHSession?
    private var sftpClient: SFTPClient?

    /// Resolves `target` (`alias`, `user@host`, `host:port`) through the ssh
    /// config and connects, verifying the host key and authenticating.
    /// A host or user name OpenSSH's ssh would refuse is refused here, before
    /// the config (whose ProxyCommand may hold `%h` or `%r`) is applied.
    public static func connect(_ target: String, config: SSHConfig, options: ConnectionOptions = ConnectionOptions()) async throws -> SSHConnection {
        let parsed = SSHConfig.parseTarget(target)
        return try await connect(SSHTarget(user: parsed.user, host: parsed.host, port: parsed.port), label: target, config: config, options: options)
    }

    /// The same for a target already held as a value (a Deployfile's host);
    /// `label` names the host in messages.
    public static func connect(_ target: SSHTarget, label: String, config: SSHConfig,
                               options: ConnectionOptions = ConnectionOptions()) async throws -> SSHConnection {
        do throws(SSHName.Refusal) { try SSHName.checkTarget(target) } catch { throw error.error }
        let resolved = config.resolve(target.host, user: target.user, port: target.port, environment: options.environment)
        let connection = SSHConnection(label: label, resolved: resolved, connector: Connector(config: config, options: options))
        do {
            try await connection.worker.run { [connection] in _ = try connection.openSession() }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private init(label: String, resolved: ResolvedHost, connector: Connector) {
        self.host = label
        self.resolved = resolved
        self.connector = connector
        let interval = Double(resolved.effectiveServerAliveInterval)
        var keepalive: (() -> Void)?
        weak var weakSelf: SSHConnection?
        if interval > 0 {
            keepalive = { weakSelf?.sendKeepalive() }
        }
        worker = WorkerThread(name: "swiftfab-ssh-\(label)", idleInterval: interval, idle: keepalive)
        weakSelf = self
    }

    deinit { worker.stop() }

    /// Why the session was lost, once it was. A run never connects again
    /// behind the user's back: a deploy would go on under a lock that names a
    /// connection that is gone, while what that connection started was stopped
    /// on the host (see `RemoteCommand.guardian`).
    private var lost: SwiftFabError?

    @discardableResult
    private func openSession() throws -> SSHSession {
        if let session { return session }
        if let lost {
            throw SwiftFabError(.connection, host: host, "the connection was lost earlier in this run (\(lost.message)); nothing more runs on this host",
                                hint: "check the host and the network, then run again")
        }
        do {
            let fresh = try connector.establish(resolved)
            fresh.startGuardian()
            session = fresh
            return fresh
        } catch let error as SwiftFabError {
            throw error.on(host: host)
        }
    }

    /// Between commands: keep NAT and firewalls from dropping an idle session.
    private func sendKeepalive() {
        guard let session else { return }
        var next: Int32 = 0
        if libssh2_keepalive_send(session.raw, &next) < 0 && libssh2_session_last_errno(session.raw) != LIBSSH2_ERROR_EAGAIN {
            dropSession(because: session.failure("sending a keepalive"))
        }
    }

    /// Tests: the connection as if it had been idle `seconds` longer (its
    /// session's last word from the host that much older), without the wait.
    func backdateLastHeard(by seconds: Double) async throws {
        try await worker.run { [self] in session?.backdateHeardFrom(by: seconds) }
    }

    /// Forgets a broken session for good: later calls fail, saying why.
    private func dropSession(because error: SwiftFabError) {
        sftpClient = nil
        session = nil
        lost = error
    }

    /// Runs `body` with the session on the connection's thread; a lost
    /// connection stays lost.
    private func withSession<T: Sendable>(_ body: @escaping @Sendable (SSHSession) throws -> T) async throws -> T {
        try await worker.run { [self] in
            let session = try openSession()
            // Silence counts while an answer is awaited: a connection left idle (a pause between
            // batches, local work in a task) is not a peer that stopped answering.
            session.noteInbound()
            do {
                return try body(session)
            } catch let error as SwiftFabError {
                if error.kind == .connection { dropSession(because: error) }
                throw error.on(host: host)
            }
        }
    }

    public func run(_ command: Command, _ options: ExecOptions) async throws -> CommandResult {
        try await withSession { session in try session.exec(command, options) }
    }

    public func upload(_ local: String, to remote: String, _ options: TransferOptions) async throws -> TransferSummary {
        try await withSession { [self] session in
            session.beginIdleLimited("uploading \(local)")
            session.interruptMark = Interrupt.count
            defer { session.idleTimeout = nil; session.interruptMark = nil }
            return try SFTPTransfer(session: session, sftp: try sftp(session), options: options).upload(local, to: remote)
        }
    }

    public func download(_ remote: String, to local: String, _ options: TransferOptions) async throws -> TransferSummary {
        try await withSession { [self] session in
            session.beginIdleLimited("downloading \(remote)")
            session.interruptMark = Interrupt.count
            defer { session.idleTimeout = nil; session.interruptMark = nil }
            return try SFTPTransfer(session: session, sftp: try sftp(session), options: options).download(remote, to: local)
        }
    }

    private func sftp(_ session: SSHSession) throws -> SFTPClient {
        if let sftpClient { return sftpClient }
        let client = try SFTPClient(session: session)
        sftpClient = client
        return client
    }

    /// The server's host key as seen on this connection (for `trust`).
    public func hostKey() async throws -> (type: String, blob: [UInt8]) {
        try await withSession { session in
            guard let key = session.hostKey else { throw session.failure("reading the host key") }
            return key
        }
    }

    public func close() async {
        _ = try? await worker.run { [self] in
            sftpClient = nil
            session?.disconnect()
            session = nil
        }
        worker.stop()
    }
}

/// What `swiftfab trust` needs: the key a host presents and what known_hosts says of it.
public struct HostKeyScan: Sendable {
    public var host: ResolvedHost
    public var keyType: String
    public var key: [UInt8]
    public var verdict: HostKeyVerdict

    public var fingerprint: String { KnownHosts.fingerprintSHA256(key) }
    public var keyName: String { LibSSH2.displayName(ofKeyType: keyType) }
    public var knownHostsName: String { HostKeyVerifier.lookupName(host.hostname, port: host.port) }
    /// Where a new entry goes: the first user known_hosts file.
    public var knownHostsFile: String? { host.userKnownHostsFiles.first { $0 != "/dev/null" } }

    /// Reads `target`'s host key without authenticating. A name ssh would
    /// refuse, or one known_hosts could not hold as one host, is refused
    /// before connecting: there would be nothing safe to record.
    public static func scan(_ target: String, config: SSHConfig, options: ConnectionOptions) async throws -> HostKeyScan {
        let parsed = SSHConfig.parseTarget(target)
        let resolved: ResolvedHost
        do throws(SSHName.Refusal) {
            try SSHName.checkTarget(target)
            resolved = config.resolve(parsed.host, user: parsed.user, port: parsed.port, environment: options.environment)
            try SSHName.checkKnownHostsName(resolved.hostname)
        } catch {
            throw error.error
        }
        let connector = Connector(config: config, options: options)
        let worker = WorkerThread(name: "swiftfab-scan-\(target)")
        defer { worker.stop() }
        do {
            let (type, blob, verdict) = try await worker.run { try connector.scanHostKey(resolved) }
            return HostKeyScan(host: resolved, keyType: type, key: blob, verdict: verdict)
        } catch let error as SwiftFabError {
            throw error.on(host: target)
        }
    }

    /// Appends the key to `knownHostsFile`.
    public func record(hashed: Bool = false) throws {
        guard let file = knownHostsFile else {
            throw SwiftFabError(.hostKey, host: host.alias, "no known_hosts file to write (UserKnownHostsFile is none)")
        }
        try KnownHosts.record(host: host.hostname, port: host.port, keyType: keyType, key: key, hashed: hashed, to: file)
    }
}
