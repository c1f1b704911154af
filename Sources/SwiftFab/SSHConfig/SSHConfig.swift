import Foundation

/// Errors loading an ssh_config file. Parse problems are not errors: they become `warnings`.
public enum SSHConfigError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): "ssh config file \(path) does not exist"
        case .unreadable(let path, let reason): "cannot read ssh config file \(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}

/// An OpenSSH client configuration (`~/.ssh/config` semantics).
///
/// Parsing happens once; `resolve` replays the file for a given host, because which
/// blocks apply depends on the alias, the user and settings seen so far.
public struct SSHConfig: Sendable {
    /// The file this config came from (or `<memory>`).
    public let path: String
    /// Lines we ignored: bad values, unsupported `Match` criteria, unreadable includes.
    public let warnings: [String]
    let nodes: [ConfigNode]

    /// - Parameter environment: supplies `HOME` for `~` and relative `Include` paths.
    public init(
        text: String,
        path: String = "<memory>",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        var parser = SSHConfigParser(home: LocalAccount(environment: environment).home, rootPath: path)
        nodes = parser.parse(text: text, path: path)
        warnings = parser.warnings
        self.path = path
    }

    /// Loads `path`, or `~/.ssh/config` when nil. A missing default file is an empty
    /// config (like ssh); a missing file that was asked for by name is an error.
    public static func load(
        path: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> SSHConfig {
        let home = LocalAccount(environment: environment).home
        let defaultPath = "\(home)/.ssh/config"
        let file = path.map { TokenExpander.expandTilde($0, home: home) } ?? defaultPath
        guard FileManager.default.fileExists(atPath: file) else {
            if file == defaultPath { return SSHConfig(text: "", path: file, environment: environment) }
            throw SSHConfigError.fileNotFound(path: file)
        }
        return SSHConfig(text: try readText(file), path: file, environment: environment)
    }

    /// Effective settings for `alias`. Explicit `user`/`port` (from `user@host:port`)
    /// win over the config, as on the ssh command line, and are visible to `Match user`.
    public func resolve(
        _ alias: String,
        user: String? = nil,
        port: Int? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ResolvedHost {
        let account = LocalAccount(environment: environment)
        var state = ResolveState(alias: alias, localUser: account.user)
        if let user { state.apply(.user(user)) }
        if let port { state.apply(.port(port)) }
        Self.evaluate(nodes, neverMatch: false, state: &state)
        return state.resolved(home: account.home, environment: environment)
    }

    /// What this config says that swiftfab will not do for these targets
    /// (`[user@]host[:port]`), one line each, to be shown before connecting.
    public func routeWarnings(for targets: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        routeWarnings(for: targets.map { text in
            let parsed = Self.parseTarget(text)
            return (SSHTarget(user: parsed.user, host: parsed.host, port: parsed.port), text)
        }, environment: environment)
    }

    /// The same for targets held as values, each with the label messages name it by.
    public func routeWarnings(for targets: [(target: SSHTarget, label: String)], environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        targets.flatMap { target, label -> [String] in
            resolve(target.host, user: target.user, port: target.port, environment: environment).unsupportedRouteDirectives.map {
                "\(label): the ssh config sets \($0), which swiftfab does not support: it connects without it"
            }
        }
    }

    /// OpenSSH's activity rules: `Host`/`Match` lines switch the current block on or off;
    /// an included file starts active, and can never match anything if the Include
    /// itself sat in an inactive block; the includer's state is untouched afterwards.
    private static func evaluate(_ nodes: [ConfigNode], neverMatch: Bool, state: inout ResolveState) {
        var active = !neverMatch
        for node in nodes {
            switch node {
            case .host(let patterns):
                active = !neverMatch && HostPattern.matchList(state.alias, patterns) == .matched
            case .match(let condition):
                active = !neverMatch && state.matches(condition)
            case .setting(let setting):
                if active { state.apply(setting) }
            case .include(let files):
                for file in files { evaluate(file, neverMatch: !active, state: &state) }
            }
        }
    }

    /// Reads a text file, distinguishing "missing" from "there but unreadable".
    static func readText(_ path: String) throws(SSHConfigError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(path: path)
        }
        if isDirectory.boolValue { throw .unreadable(path: path, reason: "is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied or I/O error")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
