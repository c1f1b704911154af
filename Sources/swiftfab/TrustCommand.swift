import ArgumentParser
import Foundation
import SwiftFab

struct TrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Show a host's key fingerprint and add it to known_hosts after you confirm.",
        discussion: "Compare the fingerprint with the one the server's administrator gives you (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server) before you say yes."
    )

    @Argument(help: "Host alias, user@host or host:port.") var host: String

    @Option(name: [.customShort("F"), .customLong("ssh-config")], help: "ssh config file (default ~/.ssh/config).")
    var sshConfig: String?

    @Flag(help: "Add the key without asking (for scripts).")
    var yes = false

    @Flag(help: "Write the entry hashed, as HashKnownHosts does.")
    var hashed = false

    /// The name is recorded as given unless the config names the host otherwise: it must be one plain host.
    func validate() throws {
        do throws(SSHName.Refusal) {
            try SSHName.checkTarget(host)
            try SSHName.checkKnownHostsName(SSHConfig.parseTarget(host).host)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let code = await HostKeyTrust(shown: host, target: host, options: ConnectionOptions(configFile: sshConfig), yes: yes, hashed: hashed).run()
        if code != 0 { throw ExitCode(code) }
    }
}
