import ArgumentParser
import Foundation
import SwiftFab

/// Options every host-facing command shares.
struct HostOptions: ParsableArguments {
    @Option(name: [.customShort("H"), .long], help: "Hosts, comma separated: alias, user@host or host:port.")
    var hosts: String

    // The same options as a task's, with the same help (GlobalOptions.specs).
    @Option(name: [.customShort("F"), .customLong("ssh-config")], help: ArgumentHelp(GlobalOptions.help("ssh-config")))
    var sshConfig: String?

    // Its help names the default already.
    @Option(name: .customLong("parallel"), help: ArgumentHelp(GlobalOptions.help("parallel")))
    var parallelOption: Int?
    var parallel: Int { parallelOption ?? GlobalOptions().parallel }

    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp(GlobalOptions.help("connect-timeout")))
    var connectTimeout: Double = 10

    @Option(name: .customLong("passphrase-env"), help: ArgumentHelp(GlobalOptions.help("passphrase-env")))
    var passphraseEnv: String?

    @Option(name: .customLong("password-env"), help: ArgumentHelp(GlobalOptions.help("password-env")))
    var passwordEnv: String?

    @Flag(name: .customLong("accept-new-host-keys"), help: ArgumentHelp(GlobalOptions.help("accept-new-host-keys")))
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
        // Connections set up as a task's are: one place says how the options become ConnectionOptions.
        var globals = GlobalOptions()
        (globals.sshConfig, globals.connectTimeout, globals.passphraseEnv, globals.passwordEnv, globals.acceptNewHostKeys) =
            (sshConfig, connectTimeout, passphraseEnv, passwordEnv, acceptNew)
        let options: ConnectionOptions
        do {
            options = try globals.connection(environmentConfig: nil, environment: environment)
        } catch let error as CommandLineError {
            throw ValidationError(error.message)
        }
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
