#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings gathered while replaying the config for one host. Raw (unexpanded)
/// values, because `%h`, `%r`, `%p` depend on the final HostName, User and Port.
struct ResolveState {
    let alias: String
    let localUser: String
    private var seen: Set<String> = []

    var hostName: String?
    var user: String?
    var port: Int?
    var identityFiles: [String] = []
    var identitiesOnly: Bool?
    var proxyJump: [JumpHost]?
    var proxyCommand: String?
    var userKnownHostsFiles: [String]?
    var globalKnownHostsFiles: [String]?
    var strictHostKeyChecking: StrictHostKeyChecking?
    var connectTimeout: Double?
    var serverAliveInterval: Int?
    var serverAliveCountMax: Int?
    var passwordAuthentication: Bool?
    var preferredAuthentications: [String]?
    var extraOptions: [String: [String]] = [:]

    init(alias: String, localUser: String) {
        self.alias = alias
        self.localUser = localUser
    }

    /// First obtained value wins; IdentityFile accumulates.
    mutating func apply(_ setting: SSHConfigSetting) {
        if let key = setting.key {
            guard seen.insert(key).inserted else { return }
        }
        switch setting {
        case .hostName(let v): hostName = v
        case .user(let v): user = v
        case .port(let v): port = v
        case .identityFile(let v): identityFiles.append(v)
        case .identitiesOnly(let v): identitiesOnly = v
        case .proxyJump(let v): proxyJump = v
        case .proxyCommand(let v): proxyCommand = v
        case .userKnownHostsFiles(let v): userKnownHostsFiles = v
        case .globalKnownHostsFiles(let v): globalKnownHostsFiles = v
        case .strictHostKeyChecking(let v): strictHostKeyChecking = v
        case .connectTimeout(let v): connectTimeout = v
        case .serverAliveInterval(let v): serverAliveInterval = v
        case .serverAliveCountMax(let v): serverAliveCountMax = v
        case .passwordAuthentication(let v): passwordAuthentication = v
        case .preferredAuthentications(let v): preferredAuthentications = v
        case .other(let keyword, let args): extraOptions[keyword] = args
        }
    }

    /// The host name as known so far: `Match host` tests this, not the alias.
    var currentHostname: String {
        hostName.map { TokenExpander.expandPercent($0, tokens: ["h": alias]) } ?? alias
    }

    func matches(_ condition: MatchCondition) -> Bool {
        guard case .criteria(let criteria) = condition else { return false }
        return criteria.allSatisfy { criterion in
            let hit: Bool
            switch criterion.kind {
            case .all: hit = true
            case .host: hit = Self.matches(currentHostname, criterion.patterns)
            case .originalHost: hit = Self.matches(alias, criterion.patterns)
            case .user: hit = Self.matches(user ?? localUser, criterion.patterns)
            case .localUser: hit = Self.matches(localUser, criterion.patterns)
            }
            return hit != criterion.negated
        }
    }

    private static func matches(_ value: String, _ patterns: String) -> Bool {
        HostPattern.matchCommaList(value, patterns) == .matched
    }

    func resolved(home: String, environment: [String: String]) -> ResolvedHost {
        let hostname = currentHostname
        let user = user ?? localUser
        let port = port ?? 22
        let expander = TokenExpander(home: home, environment: environment, tokens: [
            "d": home, "h": hostname, "p": String(port), "r": user,
            "u": localUser, "n": alias, "i": String(getuid()),
            "l": Self.localHostname(), "L": Self.localHostname(short: true),
        ])
        var identities: [String] = []
        for file in identityFiles.map(expander.expand) where !identities.contains(file) {
            identities.append(file)  // ssh drops repeated identities
        }
        return ResolvedHost(
            alias: alias,
            hostname: hostname,
            user: user,
            port: port,
            identityFiles: identities,
            identitiesOnly: identitiesOnly ?? false,
            proxyJump: proxyJump ?? [],
            // %h %p %r %n %%, as OpenSSH expands them; the shell that runs it expands the rest.
            proxyCommand: proxyCommand.map { TokenExpander.expandPercent($0, tokens: ["h": hostname, "p": String(port), "r": user, "n": alias]) },
            userKnownHostsFiles: userKnownHostsFiles.map { $0.map(expander.expand) }
                ?? ResolvedHost.defaultUserKnownHostsFiles(home: home),
            globalKnownHostsFiles: globalKnownHostsFiles.map { $0.map(expander.expand) }
                ?? ResolvedHost.defaultGlobalKnownHostsFiles,
            strictHostKeyChecking: strictHostKeyChecking ?? .yes,
            connectTimeout: connectTimeout,
            serverAliveInterval: serverAliveInterval,
            serverAliveCountMax: serverAliveCountMax ?? 3,
            passwordAuthentication: passwordAuthentication ?? false,
            preferredAuthentications: preferredAuthentications,
            extraOptions: extraOptions
        )
    }

    private static func localHostname(short: Bool = false) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return short ? String(name.prefix { $0 != "." }) : name
    }
}
