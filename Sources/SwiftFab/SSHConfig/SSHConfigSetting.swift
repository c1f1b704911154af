/// One option line, validated when the file is parsed so bad values are reported
/// once (as warnings) instead of on every resolve.
enum SSHConfigSetting: Sendable, Equatable {
    case hostName(String)
    case user(String)
    case port(Int)
    case identityFile(String)
    case identitiesOnly(Bool)
    case proxyJump([JumpHost])
    /// A command whose stdin and stdout carry the connection; nil for `none`.
    case proxyCommand(String?)
    case userKnownHostsFiles([String])
    case globalKnownHostsFiles([String])
    case strictHostKeyChecking(StrictHostKeyChecking)
    case connectTimeout(Double)
    case serverAliveInterval(Int)
    case serverAliveCountMax(Int)
    case passwordAuthentication(Bool)
    case preferredAuthentications([String])
    case other(keyword: String, args: [String])

    struct ValueError: Error {
        var message: String
    }

    /// `keyword` must already be lowercased.
    init(keyword: String, args: [String]) throws(ValueError) {
        guard let first = args.first else { throw ValueError(message: "\(keyword): missing argument") }
        // Keywords taking one value reject extras, as OpenSSH does ("garbage at end of line").
        func single() throws(ValueError) -> String {
            guard args.count == 1 else { throw ValueError(message: "\(keyword): unexpected extra arguments") }
            return first
        }
        switch keyword {
        case "hostname": self = .hostName(try single())
        case "user": self = .user(try single())
        case "port":
            guard let port = SSHConfig.parsePort(try single()) else { throw ValueError(message: "bad port '\(first)'") }
            self = .port(port)
        case "identityfile": self = .identityFile(try single())
        case "identitiesonly": self = .identitiesOnly(try Self.flag(keyword, try single()))
        case "proxyjump":
            guard let chain = JumpHost.parseChain(try single()) else { throw ValueError(message: "bad ProxyJump '\(first)'") }
            self = .proxyJump(chain)
        case "userknownhostsfile": self = .userKnownHostsFiles(Self.fileList(args))
        case "globalknownhostsfile": self = .globalKnownHostsFiles(Self.fileList(args))
        case "stricthostkeychecking":
            switch try single().lowercased() {
            case "yes", "true", "ask": self = .strictHostKeyChecking(.yes)  // we never prompt: ask == yes
            case "accept-new": self = .strictHostKeyChecking(.acceptNew)
            case "no", "false", "off": self = .strictHostKeyChecking(.no)
            default: throw ValueError(message: "bad StrictHostKeyChecking '\(first)'")
            }
        case "connecttimeout": self = .connectTimeout(Double(try Self.time(keyword, try single())))
        case "serveraliveinterval": self = .serverAliveInterval(try Self.time(keyword, try single()))
        case "serveralivecountmax":
            guard let n = Int(try single()), n >= 0 else { throw ValueError(message: "bad ServerAliveCountMax '\(first)'") }
            self = .serverAliveCountMax(n)
        case "passwordauthentication": self = .passwordAuthentication(try Self.flag(keyword, try single()))
        case "preferredauthentications":
            self = .preferredAuthentications(try single().split(separator: ",").map(String.init))
        default: self = .other(keyword: keyword, args: args)
        }
    }

    /// First-value-wins bookkeeping key; IdentityFile is the one that accumulates.
    var key: String? {
        switch self {
        case .hostName: "hostname"
        case .user: "user"
        case .port: "port"
        case .identityFile: nil
        case .identitiesOnly: "identitiesonly"
        // One route: whichever of ProxyJump and ProxyCommand comes first wins, as in OpenSSH.
        case .proxyJump, .proxyCommand: "proxy"
        case .userKnownHostsFiles: "userknownhostsfile"
        case .globalKnownHostsFiles: "globalknownhostsfile"
        case .strictHostKeyChecking: "stricthostkeychecking"
        case .connectTimeout: "connecttimeout"
        case .serverAliveInterval: "serveraliveinterval"
        case .serverAliveCountMax: "serveralivecountmax"
        case .passwordAuthentication: "passwordauthentication"
        case .preferredAuthentications: "preferredauthentications"
        case .other(let keyword, _): keyword
        }
    }

    /// `none` alone means "no files" (empty list).
    private static func fileList(_ args: [String]) -> [String] {
        args.count == 1 && args[0].lowercased() == "none" ? [] : args
    }

    private static func flag(_ keyword: String, _ value: String) throws(ValueError) -> Bool {
        switch value.lowercased() {
        case "yes", "true": return true
        case "no", "false": return false
        default: throw ValueError(message: "\(keyword): expected yes or no, got '\(value)'")
        }
    }

    private static func time(_ keyword: String, _ value: String) throws(ValueError) -> Int {
        guard let seconds = parseTime(value) else { throw ValueError(message: "\(keyword): bad time value '\(value)'") }
        return seconds
    }

    /// OpenSSH `convtime`: `90`, `1m30s`, `2h`; units s, m, h, d, w (case-insensitive).
    static func parseTime(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        var total = 0, number: Int?
        for c in text.lowercased() {
            if let d = c.wholeNumberValue, c.isASCII {
                guard (number ?? 0) < 100_000_000 else { return nil }  // no overflow traps
                number = (number ?? 0) * 10 + d
                continue
            }
            let unit: Int
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            case "w": unit = 604800
            default: return nil
            }
            guard let n = number else { return nil }
            total += n * unit
            number = nil
        }
        return total + (number ?? 0)
    }
}
