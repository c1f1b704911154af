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
        let options = ConnectionOptions(configFile: sshConfig)
        let scan: HostKeyScan
        do {
            scan = try await HostKeyScan.scan(host, config: try options.loadConfig(), options: options)
        } catch let error as SwiftFabError where error.kind == .invalidInput {
            // A HostName from the config that known_hosts could not hold: found before connecting.
            CLI.warn(error.description)
            throw ExitCode(64)
        }
        let shown = "\(scan.keyName) key fingerprint is \(scan.fingerprint)"
        switch scan.verdict {
        case .trusted(let file, let line):
            print("\(host): \(scan.knownHostsName) is already trusted (\(file) line \(line)). \(shown).")
            return
        case .changed(let file, let line, _), .revoked(let file, let line):
            CLI.warn("""
                \(host): \(scan.knownHostsName) presents a key that differs from \(file) line \(line). \(shown).
                  Not adding it. If the change is expected, remove the old entry first: ssh-keygen -R \(Shell.quote(scan.knownHostsName)) -f \(Shell.quote(file))
                """)
            throw ExitCode(1)
        case .unknown:
            print("\(host): \(scan.knownHostsName) presents an unknown key. \(shown).")
        }
        guard let file = scan.knownHostsFile else {
            CLI.warn("\(host): UserKnownHostsFile is none in your ssh config; nowhere to record the key")
            throw ExitCode(1)
        }
        guard yes || TerminalPrompt.confirm("Add it to \(file)?") else {
            CLI.warn("not added (pass --yes to add without asking)")
            throw ExitCode(1)
        }
        try scan.record(hashed: hashed)
        print("\(host): added \(scan.knownHostsName) to \(file).")
    }
}
