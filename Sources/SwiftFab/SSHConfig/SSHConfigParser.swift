import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed config file: lines in order, with Includes parsed in place so that
/// evaluation can follow OpenSSH's block-activity rules exactly.
enum ConfigNode: Sendable {
    case setting(SSHConfigSetting)
    case host(patterns: [String])
    case match(MatchCondition)
    /// One node list per included file, in glob order.
    case include([[ConfigNode]])
}

/// A `Match` line. Unsupported criteria make the block never match.
enum MatchCondition: Sendable {
    case criteria([MatchCriterion])
    case never
}

struct MatchCriterion: Sendable {
    enum Kind: Sendable { case all, host, originalHost, user, localUser }
    var kind: Kind
    var negated: Bool
    /// Comma-separated pattern list; empty for `all`.
    var patterns: String
}

/// Builds `ConfigNode`s from text, following Includes and collecting warnings.
struct SSHConfigParser {
    /// OpenSSH's READCONF_MAX_DEPTH.
    static let maxIncludeDepth = 16

    let home: String
    /// Relative Include paths resolve against ~/.ssh (or /etc/ssh for the system file).
    let includeBase: String
    private(set) var warnings: [String] = []

    init(home: String, rootPath: String) {
        self.home = home
        includeBase = rootPath.hasPrefix("/etc/ssh/") ? "/etc/ssh" : "\(home)/.ssh"
    }

    mutating func parse(text: String, path: String, depth: Int = 0) -> [ConfigNode] {
        var nodes: [ConfigNode] = []
        for (index, line) in ConfigText.lines(text).enumerated() {
            let here = "\(path):\(index + 1)"
            let parsed: (keyword: String, args: [String])?
            do {
                parsed = try SSHConfigLexer.split(line)
            } catch {
                warnings.append("\(here): \(error.message); line ignored")
                continue
            }
            guard let (keyword, args) = parsed else { continue }

            switch ConfigText.lowercased(keyword) {
            case "host":
                if args.isEmpty { warnings.append("\(here): Host without patterns never matches") }
                nodes.append(.host(patterns: args))
            case "match":
                nodes.append(.match(parseMatch(args, at: here)))
            case "include":
                nodes.append(.include(parseInclude(args, at: here, depth: depth)))
            case "proxycommand" where !args.isEmpty:
                let command = SSHConfigLexer.rawValue(line)
                nodes.append(.setting(.proxyCommand(command.lowercased() == "none" ? nil : command)))
            case let lower:
                do {
                    nodes.append(.setting(try SSHConfigSetting(keyword: lower, args: args)))
                } catch {
                    warnings.append("\(here): \(error.message); line ignored")
                }
            }
        }
        return nodes
    }

    private mutating func parseMatch(_ args: [String], at here: String) -> MatchCondition {
        var criteria: [MatchCriterion] = []
        var i = 0
        while i < args.count {
            var name = ConfigText.lowercased(args[i])
            i += 1
            let negated = name.hasPrefix("!")
            if negated { name.removeFirst() }

            let kind: MatchCriterion.Kind
            switch name {
            case "all":
                criteria.append(MatchCriterion(kind: .all, negated: negated, patterns: ""))
                continue
            case "host": kind = .host
            case "originalhost": kind = .originalHost
            case "user": kind = .user
            case "localuser": kind = .localUser
            default:
                warnings.append("\(here): Match \(name) is not supported; skipping this Match block")
                return .never
            }
            guard i < args.count else {
                warnings.append("\(here): Match \(name) needs an argument; skipping this Match block")
                return .never
            }
            criteria.append(MatchCriterion(kind: kind, negated: negated, patterns: args[i]))
            i += 1
        }
        if criteria.isEmpty {
            warnings.append("\(here): Match without criteria; skipping this Match block")
            return .never
        }
        return .criteria(criteria)
    }

    private mutating func parseInclude(_ args: [String], at here: String, depth: Int) -> [[ConfigNode]] {
        guard depth < Self.maxIncludeDepth else {
            warnings.append("\(here): Include nested more than \(Self.maxIncludeDepth) deep; ignored")
            return []
        }
        var files: [[ConfigNode]] = []
        for arg in args {
            var pattern = TokenExpander.expandTilde(arg, home: home)
            if !pattern.hasPrefix("/") { pattern = "\(includeBase)/\(pattern)" }
            // No match is fine (OpenSSH ignores missing includes); unreadable files are reported.
            for path in Self.expandGlob(pattern) {
                do {
                    let text = try SSHConfig.readText(path)
                    files.append(parse(text: text, path: path, depth: depth + 1))
                } catch {
                    warnings.append("\(here): cannot read included file \(path): \(error)")
                }
            }
        }
        return files
    }

    /// Sorted paths matching a shell glob (libc `glob`, like OpenSSH).
    static func expandGlob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { i in g.gl_pathv[i].map { String(cString: $0) } }
    }
}
