import Foundation

/// How to treat a host key that is not in known_hosts (`StrictHostKeyChecking`).
public enum StrictHostKeyChecking: String, Sendable, Equatable {
    /// Refuse unknown and changed keys. OpenSSH's `ask` maps here: we never prompt.
    case yes
    /// Record unknown keys, refuse changed ones.
    case acceptNew = "accept-new"
    /// Record unknown keys and connect even when changed (OpenSSH `no`/`off`).
    case no
}

/// A host to connect to, as a value: `[user@]host[:port]` (the ssh config
/// fills in the rest). Parsed once where text comes in (the command line,
/// a Deployfile's address), then carried as it is to the connection.
public typealias SSHTarget = JumpHost

/// One hop of a `ProxyJump` chain, or any host to connect to: `[user@]host[:port]`.
public struct JumpHost: Sendable, Hashable, CustomStringConvertible {
    public var user: String?
    public var host: String
    public var port: Int?

    public init(user: String? = nil, host: String, port: Int? = nil) {
        self.user = user
        self.host = host
        self.port = port
    }

    /// Parses `[user@]host[:port]`, `[v6]:port` or `ssh://user@host:port`; nil when there is no host.
    public init?(parsing text: String) {
        let target = SSHConfig.parseTarget(text)
        guard !target.host.isEmpty else { return nil }
        self.init(user: target.user, host: target.host, port: target.port)
    }

    public var description: String {
        var s = user.map { "\($0)@" } ?? ""
        let bracket = port != nil && host.contains(":")
        s += bracket ? "[\(host)]" : host
        if let port { s += ":\(port)" }
        return s
    }

    /// A ProxyJump value: `none` is an empty chain, otherwise a comma-separated list.
    /// nil when any hop is malformed.
    static func parseChain(_ value: String) -> [JumpHost]? {
        if value.lowercased() == "none" { return [] }
        var hops: [JumpHost] = []
        for part in value.split(separator: ",", omittingEmptySubsequences: false) {
            guard let hop = JumpHost(parsing: String(part)) else { return nil }
            hops.append(hop)
        }
        return hops
    }
}

/// Effective connection settings for one host after applying ssh_config.
public struct ResolvedHost: Sendable, Equatable {
    /// The name as given (before `HostName`).
    public var alias: String
    public var hostname: String
    public var user: String
    public var port: Int
    /// Expanded paths, in config order. Empty means "try the default keys".
    public var identityFiles: [String]
    public var identitiesOnly: Bool
    /// Empty means connect directly (no ProxyJump, or `ProxyJump none`).
    public var proxyJump: [JumpHost]
    /// `ProxyCommand`, tokens expanded: run by /bin/sh, its stdin and stdout carry the connection.
    public var proxyCommand: String?
    public var userKnownHostsFiles: [String]
    public var globalKnownHostsFiles: [String]
    public var strictHostKeyChecking: StrictHostKeyChecking
    public var connectTimeout: Double?
    /// Seconds, as the config says; nil when unset, 0 when explicitly disabled.
    /// `effectiveServerAliveInterval` is what connections use.
    public var serverAliveInterval: Int?
    public var serverAliveCountMax: Int
    /// Defaults to false: we only try passwords when the config asks for them.
    public var passwordAuthentication: Bool
    /// Stored only; nil when unset.
    public var preferredAuthentications: [String]?
    /// Keywords we don't interpret, lowercased, first value wins.
    public var extraOptions: [String: [String]]

    public init(
        alias: String,
        hostname: String? = nil,
        user: String,
        port: Int = 22,
        identityFiles: [String] = [],
        identitiesOnly: Bool = false,
        proxyJump: [JumpHost] = [],
        proxyCommand: String? = nil,
        userKnownHostsFiles: [String],
        globalKnownHostsFiles: [String] = ResolvedHost.defaultGlobalKnownHostsFiles,
        strictHostKeyChecking: StrictHostKeyChecking = .yes,
        connectTimeout: Double? = nil,
        serverAliveInterval: Int? = nil,
        serverAliveCountMax: Int = 3,
        passwordAuthentication: Bool = false,
        preferredAuthentications: [String]? = nil,
        extraOptions: [String: [String]] = [:]
    ) {
        self.alias = alias
        self.hostname = hostname ?? alias
        self.user = user
        self.port = port
        self.identityFiles = identityFiles
        self.identitiesOnly = identitiesOnly
        self.proxyJump = proxyJump
        self.proxyCommand = proxyCommand
        self.userKnownHostsFiles = userKnownHostsFiles
        self.globalKnownHostsFiles = globalKnownHostsFiles
        self.strictHostKeyChecking = strictHostKeyChecking
        self.connectTimeout = connectTimeout
        self.serverAliveInterval = serverAliveInterval
        self.serverAliveCountMax = serverAliveCountMax
        self.passwordAuthentication = passwordAuthentication
        self.preferredAuthentications = preferredAuthentications
        self.extraOptions = extraOptions
    }

    /// Unlike OpenSSH (whose default is 0, off), swiftfab probes a silent
    /// server by default: a host that vanishes mid-run (powered off, network
    /// gone) would otherwise hang the run until TCP gives up, hours later.
    /// 15 s with ServerAliveCountMax 3 fails such a host within a minute
    /// (three unanswered probes, 15 s apart, after 15 s of silence).
    public static let defaultServerAliveInterval = 15

    /// Seconds between probes of a silent server; 0 means never.
    public var effectiveServerAliveInterval: Int { serverAliveInterval ?? Self.defaultServerAliveInterval }

    /// `TCPKeepAlive`: on unless the config says `no`, as in OpenSSH.
    public var tcpKeepAlive: Bool { extraOptions["tcpkeepalive"]?.first?.lowercased() != "no" }

    /// Directives that change how or where this host is reached (or which
    /// key it must show) and that swiftfab does not carry out, by the names
    /// ssh_config spells them: a connection without them may not be the one
    /// the user meant, so they are said out loud, never silently dropped.
    public var unsupportedRouteDirectives: [String] {
        Self.routeDirectives.compactMap { lower, directive in
            guard let args = extraOptions[lower], !args.isEmpty, !directive.harmless.contains(args[0].lowercased()) else { return nil }
            return "\(directive.spelled) \(args.joined(separator: " "))"
        }.sorted()
    }

    /// Lowercased keyword -> how it is spelled, and the values that change nothing.
    static let routeDirectives: [String: (spelled: String, harmless: Set<String>)] = [
        "bindaddress": ("BindAddress", []), "bindinterface": ("BindInterface", []),
        "addressfamily": ("AddressFamily", ["any"]), "canonicalizehostname": ("CanonicalizeHostname", ["no", "false"]),
        "hostkeyalias": ("HostKeyAlias", []), "knownhostscommand": ("KnownHostsCommand", ["none"]),
        "proxyusefdpass": ("ProxyUseFdpass", ["no", "false"]),
    ]

    public static let defaultGlobalKnownHostsFiles = ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]

    public static func defaultUserKnownHostsFiles(home: String) -> [String] {
        ["\(home)/.ssh/known_hosts", "\(home)/.ssh/known_hosts2"]
    }
}

extension SSHConfig {
    /// Splits a command-line target: `[user@]host[:port]`, `[v6addr]:port`,
    /// `ssh://[user@]host[:port]`. A bare IPv6 address (several colons) has no port.
    /// An unparsable port leaves the whole text as the host, so the error surfaces on connect.
    public static func parseTarget(_ s: String) -> (user: String?, host: String, port: Int?) {
        var rest = Substring(s.trimmingCharacters(in: .whitespaces))
        if rest.lowercased().hasPrefix("ssh://") {
            rest = rest.dropFirst("ssh://".count)
            if rest.hasSuffix("/") { rest = rest.dropLast() }
        }

        // The last `@` separates the user, like OpenSSH (user names may contain `@`).
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            let u = rest[..<at]
            user = u.isEmpty ? nil : String(u)
            rest = rest[rest.index(after: at)...]
        }

        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            let host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.isEmpty { return (user, host, nil) }
            if after.hasPrefix(":"), let port = parsePort(after.dropFirst()) { return (user, host, port) }
            return (user, String(rest), nil)
        }

        // Exactly one colon means host:port; more is a bare IPv6 address.
        if rest.filter({ $0 == ":" }).count == 1, let colon = rest.firstIndex(of: ":"),
           let port = parsePort(rest[rest.index(after: colon)...]) {
            return (user, String(rest[..<colon]), port)
        }
        return (user, String(rest), nil)
    }

    static func parsePort<S: StringProtocol>(_ s: S) -> Int? {
        guard let n = Int(s), (1...65535).contains(n) else { return nil }
        return n
    }
}
