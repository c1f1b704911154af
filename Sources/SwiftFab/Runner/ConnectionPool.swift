/// One backend per host for a whole run (a task and its hooks share the
/// connection), connected on first use, closed at the end.
public actor ConnectionPool {
    public typealias Connect = @Sendable (HostDefinition) async throws -> any Backend
    private let connect: Connect
    private var backends: [HostDefinition: _Concurrency.Task<any Backend, any Error>] = [:]

    public init(connect: @escaping Connect) {
        self.connect = connect
    }

    /// Connects to the hosts as seen through the ssh config, with these options.
    public static func ssh(config: SSHConfig, options: ConnectionOptions) -> ConnectionPool {
        ConnectionPool { host in try await SSHConnection.connect(host.sshTarget, label: host.target, config: config, options: options) }
    }

    /// The same, loading the ssh config these options name.
    public static func ssh(_ options: ConnectionOptions) throws -> ConnectionPool {
        ssh(config: try options.loadConfig(), options: options)
    }

    public func backend(for host: HostDefinition) async throws -> any Backend {
        if let pending = backends[host] { return try await pending.value }
        let connect = self.connect
        let pending = _Concurrency.Task { try await connect(host) }
        backends[host] = pending
        return try await pending.value
    }

    public func closeAll() async {
        for pending in backends.values {
            if let backend = try? await pending.value { await backend.close() }
        }
        backends = [:]
    }
}
