/// One server in a Deployfile: an ssh config alias or a host name, with the
/// user, port and roles to use for it.
public struct HostDefinition: Sendable, Hashable, CustomStringConvertible {
    /// As written: an ssh config alias or a host name.
    public var address: String
    public var user: String?
    public var port: Int?
    public var roles: Set<Role>

    public init(address: String, user: String? = nil, port: Int? = nil, roles: Set<Role> = []) {
        self.address = address
        self.user = user
        self.port = port
        self.roles = roles
    }

    /// What to connect to: `user@address:port` where given (ssh config fills in the rest).
    public var target: String {
        var text = address.contains(":") && !address.hasPrefix("[") && port != nil ? "[\(address)]" : address
        if let user { text = user + "@" + text }
        if let port { text += ":\(port)" }
        return text
    }

    /// What to connect to, as a value: the address (which may itself say
    /// `user@host:port`), with the user and port given beside it winning.
    public var sshTarget: SSHTarget {
        var target = SSHTarget(parsing: address) ?? SSHTarget(host: address)
        if let user { target.user = user }
        if let port { target.port = port }
        return target
    }

    /// The short label output lines carry.
    public var description: String { address }
}

/// `Host("web1.example.com", user: "deploy", roles: .web, .db)`
public func Host(_ address: String, user: String? = nil, port: Int? = nil, roles: Role...) -> HostDefinition {
    HostDefinition(address: address, user: user, port: port, roles: Set(roles))
}

/// A named set of hosts (production, staging) with settings of its own.
public struct Environment: Sendable {
    public var name: String
    public var hosts: [HostDefinition]
    public var settings: [String: SettingValue]
    /// Used when several environments exist and no -e is given.
    public var isDefault: Bool
    /// The ssh config these hosts are resolved with (-F overrides it).
    public var sshConfig: String?

    public init(_ name: String, default isDefault: Bool = false, sshConfig: String? = nil, settings: [String: SettingValue] = [:],
                @HostBuilder _ hosts: () -> [HostDefinition]) {
        self.name = name
        self.hosts = hosts()
        self.settings = settings
        self.isDefault = isDefault
        self.sshConfig = sshConfig
    }
}
