import Foundation

/// `swiftfab trust HOST` beside a Deployfile: HOST may name one of its hosts
/// (as written, or as `user@host`, `host:port`), whose port, user and
/// environment's ssh config are used, so the key recorded is the one its
/// tasks will meet; any other name is trusted through the ssh config alone.
struct DeployfileHostTrust {
    static let usage = "swiftfab trust HOST [--yes] [--hashed] [-e ENV] [-F SSH_CONFIG]"
    let deployfile: Deployfile

    func run(_ words: [String]) async -> Int32 {
        var given: String?, environment: String?, sshConfig: String?
        var yes = false, hashed = false
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            switch word {
            case "--yes", "-y": yes = true
            case "--hashed": hashed = true
            case "-e", "--environment", "-F", "--ssh-config":
                guard index < words.count else { return usage("\(word) needs a value") }
                if word.hasPrefix("-e") || word == "--environment" { environment = words[index] } else { sshConfig = words[index] }
                index += 1
            default:
                if word.hasPrefix("-") && word != "-" { return usage("unknown option \(word)") }
                guard given == nil else { return usage("trust takes one host (\(given!) and \(word) were given)") }
                given = word
            }
        }
        guard let given, !given.isEmpty else { return usage("name the host to trust") }
        do throws(SSHName.Refusal) {
            try SSHName.checkTarget(given)
            try SSHName.checkKnownHostsName(SSHConfig.parseTarget(given).host)
        } catch {
            return usage(error.description)
        }
        let environments = deployfile.environments.filter { environment == nil || $0.name == environment }
        if let environment, environments.isEmpty {
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
        let options = ConnectionOptions(configFile: sshConfig ?? found.first?.sshConfig)
        return await HostKeyTrust(shown: given, target: found.first?.target ?? given, options: options, yes: yes, hashed: hashed).run()
    }

    /// Whether `given` names `host`: its address, or its target with the user and/or port it has.
    static func names(_ given: String, _ host: HostDefinition) -> Bool {
        let parsed = SSHConfig.parseTarget(given)
        guard parsed.host == host.address || parsed.host == "[\(host.address)]" else { return false }
        return (parsed.user == nil || parsed.user == host.user) && (parsed.port == nil || parsed.port == host.port)
    }

    private func usage(_ message: String, hint: String? = nil) -> Int32 {
        StandardStreams.write("swiftfab: trust: \(message)\n  \(hint ?? "usage: " + Self.usage)\n", to: .stderr)
        return 64
    }
}
