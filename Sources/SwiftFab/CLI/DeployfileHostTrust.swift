import Foundation

/// `swiftfab trust HOST` beside a Deployfile: HOST may name one of its hosts
/// (as written, or as `user@host`, `host:port`), whose port, user and
/// environment's ssh config are used, so the key recorded is the one its
/// tasks will meet; any other name is trusted through the ssh config alone.
/// Parsed like a task (global options before or after it, `-e` included).
struct DeployfileHostTrust {
    static let command = TaskDefinition(name: "trust", description: "Show a host's key fingerprint and add it to known_hosts after you confirm",
                                        options: [host, yes, hashed]) { _ in [] }
    static let host = Argument("host", help: "One of the Deployfile's hosts (as written, user@host or host:port), or any ssh host")
    static let yes = Flag("yes", short: "y", help: "Add the key without asking (for scripts)")
    static let hashed = Flag("hashed", help: "Write the entry hashed, as HashKnownHosts does")
    let deployfile: Deployfile

    func run(_ arguments: TaskArguments, globals: GlobalOptions) async -> Int32 {
        let given = arguments[Self.host]
        do throws(SSHName.Refusal) {
            try SSHName.checkTarget(given)
            try SSHName.checkKnownHostsName(SSHConfig.parseTarget(given).host)
        } catch {
            return usage(error.description)
        }
        let environments = deployfile.environments.filter { globals.environment == nil || $0.name == globals.environment }
        if let environment = globals.environment, environments.isEmpty {
            return usage("no environment named \(environment) (the Deployfile has: \(deployfile.environments.map(\.name).joined(separator: ", ")))")
        }
        var found: [(target: String, sshConfig: String?)] = []
        for env in environments {
            for host in env.hosts where Self.names(given, host) {
                let candidate = (host.target, env.sshConfig)
                if !found.contains(where: { $0.target == candidate.0 && $0.sshConfig == candidate.1 }) { found.append(candidate) }
            }
        }
        guard found.count <= 1 else {
            return usage("\(given) names \(found.count) of the Deployfile's hosts (\(found.map(\.target).joined(separator: ", ")))",
                         hint: "say which: -e ENV, or the host as user@host:port")
        }
        let options: ConnectionOptions
        do {
            options = try globals.connection(environmentConfig: found.first?.sshConfig)
        } catch let error as CommandLineError {
            return usage(error.message, hint: error.hint)
        } catch {
            return usage("\(error)")
        }
        return await HostKeyTrust(shown: given, target: found.first?.target ?? given, options: options,
                                  yes: arguments[Self.yes], hashed: arguments[Self.hashed]).run()
    }

    /// Whether `given` names `host`: its address, or its target with the user and/or port it has.
    static func names(_ given: String, _ host: HostDefinition) -> Bool {
        let parsed = SSHConfig.parseTarget(given)
        guard parsed.host == host.address || parsed.host == "[\(host.address)]" else { return false }
        return (parsed.user == nil || parsed.user == host.user) && (parsed.port == nil || parsed.port == host.port)
    }

    private func usage(_ message: String, hint: String? = nil) -> Int32 {
        StandardStreams.write("swiftfab: trust: \(message)\n" + (hint.map { "  \($0)\n" } ?? ""), to: .stderr)
        return 64
    }
}
