import ArgumentParser
import Foundation
import SwiftFab

/// Options every host-facing command shares.
struct HostOptions: ParsableArguments {
    @Option(name: [.customShort("H"), .long], help: "Hosts, comma separated: alias, user@host or host:port.")
    var hosts: String

    @Option(name: [.customShort("F"), .customLong("ssh-config")], help: "ssh config file (default ~/.ssh/config).")
    var sshConfig: String?

    @Option(help: "How many hosts to work on at once.")
    var parallel: Int = 50

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for a host, unless ssh config sets ConnectTimeout.")
    var connectTimeout: Double = 10

    @Option(name: .customLong("passphrase-env"), help: "Environment variable holding the identity file's passphrase.")
    var passphraseEnv: String?

    @Option(name: .customLong("password-env"), help: "Environment variable holding a login password (password auth is off otherwise).")
    var passwordEnv: String?

    @Flag(name: .customLong("accept-new-host-keys"), help: "Trust and record unknown host keys (changed keys are still refused).")
    var acceptNew = false

    var hostList: [String] {
        hosts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func validate() throws {
        guard !hostList.isEmpty else { throw ValidationError("-H needs at least one host") }
        // Before the ssh config is read: its ProxyCommand may put %h and %r into a shell.
        for target in hostList {
            do throws(SSHName.Refusal) { try SSHName.checkTarget(target) } catch { throw ValidationError("-H: " + error.description) }
        }
        guard parallel >= 1 else { throw ValidationError("--parallel must be 1 or more") }
        let environment = ProcessInfo.processInfo.environment
        for name in [passphraseEnv, passwordEnv].compactMap({ $0 }) where environment[name] == nil {
            throw ValidationError("the environment variable \(name) is not set")
        }
    }

    func adHoc() throws -> AdHoc {
        let environment = ProcessInfo.processInfo.environment
        var options = ConnectionOptions(configFile: sshConfig, connectTimeout: connectTimeout, passphraseVariable: passphraseEnv,
                                        environment: environment)
        if let passwordEnv, let password = environment[passwordEnv] {
            options.password = Secret(password)
            options.allowPassword = true
        }
        if acceptNew { options.strictHostKeyChecking = .acceptNew }
        let config = try options.loadConfig()
        for warning in config.warnings + config.routeWarnings(for: hostList, environment: environment) { CLI.warn(warning) }
        return AdHoc(hosts: hostList, config: config, options: options, parallel: parallel)
    }
}

enum CLI {
    static let style = Style(enabled: Terminal.colorEnabled())

    static func warn(_ text: String) {
        StandardStreams.write("swiftfab: \(text)\n", to: .stderr)
    }

    /// Prints the per-host table and leaves with the run's exit code.
    static func finish(_ reports: [HostReport]) throws -> Never {
        StandardStreams.write("\n" + Summary.table(reports, style: style), to: .stderr)
        let code = Interrupt.exitStatus ?? HostReport.exitCode(reports)
        throw ExitCode(code)
    }
}
