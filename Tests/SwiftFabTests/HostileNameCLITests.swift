import Foundation
import Testing
@testable import SwiftFab

/// Through the real `swiftfab` and real sshd hosts: a host or user name that
/// would be shell syntax in a ProxyCommand exits 64 before anything runs, and
/// known_hosts is only ever given one plain host per entry.
@Suite(.sandbox) struct HostileNameCLITests {
    var hosts: TestHosts { .shared }
    let dir: String
    init() throws { dir = try TempDir.make().path }

    var marker: String { dir + "/ran" }

    func swiftfab(_ arguments: [String]) async -> (status: Int32, output: String) {
        await Shell.runLocally([CLITests.binary] + arguments, environment: ["NO_COLOR": "1", "HOME": dir])
    }

    /// Every host is reached through a ProxyCommand that ignores %h, so the
    /// name recorded is the alias as given (as with a relay that routes by name).
    func relayConfig(index: Int, knownHosts: String, extra: String = "") throws -> String {
        let path = dir + "/config"
        try """
            Host *
                ProxyCommand nc \(hosts.ip(index)) \(hosts.port)
                Port \(hosts.port)
                User root
                IdentityFile \(hosts.clientKey)
                IdentitiesOnly yes
                UserKnownHostsFile \(knownHosts)
                GlobalKnownHostsFile /dev/null
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func execRefusesAHostileHostOrUserBeforeTheShellSeesIt() async throws {
        let config = dir + "/config"
        try """
            Host byuser
                ProxyCommand ssh -F /dev/null -o BatchMode=yes -W %h:%p -l %r -p 9 127.0.0.1
            Host *
                ProxyCommand nc %h %p

            """.write(toFile: config, atomically: true, encoding: .utf8)
        for target in ["web$(touch \(marker))", "x`touch${IFS}\(marker)`@byuser"] {
            let run = await swiftfab(["exec", "-F", config, "-H", target, "--", "true"])
            #expect(run.status == 64, "\(target): \(run.output)")
            #expect(run.output.contains(target.contains("@") ? "user name" : "host name"), "\(run.output)")
            #expect(!FileManager.default.fileExists(atPath: marker), "\(target) ran a command")
        }
    }

    /// `trust 'db.internal,*'` would trust that key for every host.
    @Test func trustRecordsOnlyOnePlainHost() async throws {
        let knownHosts = dir + "/known_hosts"
        let before = Data("# kept as it is\n[other.example]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n".utf8)
        try before.write(to: URL(fileURLWithPath: knownHosts))
        let config = try relayConfig(index: 21, knownHosts: knownHosts)
        for name in ["db.internal,*", "*", "!x", "db?", "db\tinternal", "db\ninternal"] {
            let run = await swiftfab(["trust", "-F", config, name, "--yes"])
            #expect(run.status == 64, "\(RemoteName.quoted(name)): \(run.output)")
            #expect(run.output.contains(RemoteName.quoted(name)), "\(run.output)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: knownHosts)) == before, "\(RemoteName.quoted(name)) changed known_hosts")
        }
        // A HostName from the config is what would be written: it is held to the same rule, before connecting.
        let named = try relayConfig(index: 21, knownHosts: knownHosts, extra: "Host relayed\n    HostName db.internal,*\n")
        let run = await swiftfab(["trust", "-F", named, "relayed", "--yes"])
        #expect(run.status == 64, "\(run.output)")
        #expect(run.output.contains(#"cannot record "db.internal,*" in known_hosts"#), "\(run.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: knownHosts)) == before)
        // A plain name is recorded as before.
        let plain = await swiftfab(["trust", "-F", config, "db.internal", "--yes"])
        #expect(plain.status == 0, "\(plain.output)")
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).contains("\n[db.internal]:\(hosts.port) ssh-ed25519 "))
    }

    /// StrictHostKeyChecking accept-new records a new key only under a name
    /// that is one plain host, and trusts it only once recorded; `no`
    /// connects whatever the key, and records nothing either.
    @Test func acceptNewRecordsNothingUnderAPatternName() async throws {
        let knownHosts = dir + "/known_hosts"
        let config = try relayConfig(index: 21, knownHosts: knownHosts, extra: """
            Host relayed
                HostName db.internal,*
                StrictHostKeyChecking accept-new
            Host unchecked
                HostName db.internal,*
                StrictHostKeyChecking no
            """)
        let options = ConnectionOptions(configFile: config, connectTimeout: 5, interactive: false, environment: ["HOME": dir, "USER": "root"])
        await #expect { _ = try await SSHConnection.connect("relayed", config: try options.loadConfig(), options: options) } throws: { error in
            let failure = error as? SwiftFabError
            return failure?.kind == .hostKey && failure?.message.contains(#"cannot record "db.internal,*" in known_hosts: it holds `,`"#) == true
        }
        #expect(!FileManager.default.fileExists(atPath: knownHosts))
        let unchecked = try await SSHConnection.connect("unchecked", config: try options.loadConfig(), options: options)
        #expect(try await unchecked.run(Command("true")).exitStatus == 0)
        await unchecked.close()
        #expect(!FileManager.default.fileExists(atPath: knownHosts))
    }
}
