import Foundation
import Testing
@testable import SwiftFab

/// Host keys are checked against known_hosts and refused with a clear message.
@Suite(.sandbox) struct HostKeyTests {
    var hosts: TestHosts { .shared }

    /// The fingerprint exactly as OpenSSH prints it for host `index`.
    func opensshFingerprint(_ index: Int) async -> String {
        let output = await Shell.runLocally(["/usr/bin/ssh-keygen", "-lf", hosts.hostKeyPub(index)]).output
        return String(output.split(separator: " ")[1])
    }

    func expectError(_ config: (SSHConfig, ConnectionOptions), _ alias: String,
                     _ check: (SwiftFabError) -> Void) async {
        do {
            let connection = try await SSHConnection.connect(alias, config: config.0, options: config.1)
            await connection.close()
            Issue.record("connected although it should have been refused")
        } catch let error as SwiftFabError {
            check(error)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func unknownHostIsRefusedWithItsFingerprint() async throws {
        let empty = try TempDir.make().path + "/known_hosts"
        let config = try hosts.customConfig(hosts.block("stranger", index: 3, knownHosts: empty))
        let fingerprint = await opensshFingerprint(3)
        await expectError(config, "stranger") { error in
            #expect(error.kind == .hostKey)
            #expect(error.host == "stranger")
            #expect(error.message.contains("is not known"))
            #expect(error.message.contains("ED25519 key fingerprint is \(fingerprint)"))
            #expect(error.hint?.contains("swiftfab trust stranger") == true)
        }
        #expect(!FileManager.default.fileExists(atPath: empty))
    }

    @Test func changedKeyIsRefusedNamingFileAndLine() async throws {
        // Record th4's key under th3's address: th3 then presents a "changed" key.
        let file = try TempDir.make().path + "/known_hosts"
        let th4Key = try String(contentsOfFile: hosts.hostKeyPub(4), encoding: .utf8).split(separator: " ")
        try "# comment\n[\(hosts.ip(3))]:\(hosts.port) \(th4Key[0]) \(th4Key[1])\n".write(toFile: file, atomically: true, encoding: .utf8)
        let config = try hosts.customConfig(hosts.block("moved", index: 3, knownHosts: file))
        let fingerprint = await opensshFingerprint(3)
        await expectError(config, "moved") { error in
            #expect(error.kind == .hostKey)
            #expect(error.message.contains("HAS CHANGED"))
            #expect(error.message.contains("\(file) line 2"))
            #expect(error.message.contains(fingerprint))
            #expect(error.hint?.contains("ssh-keygen -R") == true)
        }
    }

    @Test func revokedKeyIsRefused() async throws {
        let file = try TempDir.make().path + "/known_hosts"
        let key = try String(contentsOfFile: hosts.hostKeyPub(3), encoding: .utf8).split(separator: " ")
        let text = "[\(hosts.ip(3))]:\(hosts.port) \(key[0]) \(key[1])\n@revoked * \(key[0]) \(key[1])\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try hosts.customConfig(hosts.block("revoked", index: 3, knownHosts: file))
        await expectError(config, "revoked") { error in
            #expect(error.kind == .hostKey)
            #expect(error.message.contains("REVOKED"))
        }
    }

    @Test func acceptNewRecordsTheKeyOnlyWhenConfigured() async throws {
        let file = try TempDir.make().path + "/known_hosts"
        let config = try hosts.customConfig(hosts.block("fresh", index: 5, knownHosts: file, extra: "    StrictHostKeyChecking accept-new"))
        let first = try await SSHConnection.connect("fresh", config: config.0, options: config.1)
        await first.close()
        let recorded = try String(contentsOfFile: file, encoding: .utf8)
        #expect(recorded.hasPrefix("[\(hosts.ip(5))]:\(hosts.port) ssh-editor".replacingOccurrences(of: "editor", with: "ed25519")))
        // ssh-keygen agrees that the entry is for this host.
        let found = await Shell.runLocally(["/usr/bin/ssh-keygen", "-F", "[\(hosts.ip(5))]:\(hosts.port)", "-f", file])
        #expect(found.status == 0)
        // A second connection is verified against the recorded key.
        let second = try await SSHConnection.connect("fresh", config: config.0, options: config.1)
        #expect(try await second.run(Command("true")).succeeded)
        await second.close()
    }

    @Test func aChangedKnownHostsFileIsReadAgain() async throws {
        // The parsed files are cached per process; editing them must take effect at once.
        let file = try TempDir.make().path + "/known_hosts"
        let config = try hosts.customConfig(hosts.block("edited", index: 19, knownHosts: file))
        await expectError(config, "edited") { #expect($0.message.contains("is not known")) }
        let key = try String(contentsOfFile: hosts.hostKeyPub(19), encoding: .utf8).split(separator: " ")
        try "[\(hosts.ip(19))]:\(hosts.port) \(key[0]) \(key[1])\n".write(toFile: file, atomically: true, encoding: .utf8)
        let connection = try await SSHConnection.connect("edited", config: config.0, options: config.1)
        await connection.close()
    }

    @Test func trustScanShowsTheKeyAndRecordsIt() async throws {
        let file = try TempDir.make().path + "/known_hosts"
        let config = try hosts.customConfig(hosts.block("newbox", index: 6, knownHosts: file))
        let scan = try await HostKeyScan.scan("newbox", config: config.0, options: config.1)
        #expect(scan.verdict == .unknown)
        let expected = await opensshFingerprint(6)
        #expect(scan.fingerprint == expected)
        try scan.record(hashed: true)
        #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("|1|"))
        let again = try await HostKeyScan.scan("newbox", config: config.0, options: config.1)
        #expect(again.verdict == .trusted(file: file, line: 1))
        let connection = try await SSHConnection.connect("newbox", config: config.0, options: config.1)
        await connection.close()
    }
}
