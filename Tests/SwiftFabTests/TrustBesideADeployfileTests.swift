import Foundation
import Testing
@testable import SwiftFab

/// `swiftfab trust HOST` beside a Deployfile records the key its tasks will
/// meet: the host's own port and the environment's ssh config; and the hint
/// a task gives for an unknown key is a command that works as written.
@Suite(.sandbox) struct TrustBesideADeployfileTests {
    var hosts: TestHosts { .shared }
    static let index = 33

    @Test func trustUsesTheDeployfilesPortAndSSHConfig() async throws {
        let dir = try TempDir.make().path
        let knownHosts = dir + "/known_hosts"
        FileManager.default.createFile(atPath: knownHosts, contents: nil)
        // The environment's own ssh config (not ~/.ssh/config) holds the key and known_hosts to use.
        try """
            Host *
                User root
                IdentityFile \(hosts.clientKey)
                IdentitiesOnly yes
                UserKnownHostsFile \(knownHosts)
                GlobalKnownHostsFile /dev/null
            """.write(toFile: dir + "/ssh_config", atomically: true, encoding: .utf8)
        let ip = hosts.ip(Self.index)
        try """
            import SwiftFab

            let deployfile = Deployfile("trusting") {
                Environment("prod", sshConfig: "ssh_config") { Host("\(ip)", port: \(hosts.port), roles: .web) }
                Environment("twin", sshConfig: "ssh_config") { Host("\(ip)", port: \(hosts.port + 1000), roles: .web) }
                Task("hello", "Says hello") { _ in Run("echo hello-from-$(hostname)") }
            }
            """.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let home = ["HOME": dir + "/home"]

        // Unknown key: the task refuses, and its hint names the host with its port.
        let refused = try RunningSwiftfab(["hello", "-e", "prod"], in: dir, environment: home)
        #expect(try await refused.exitStatus() != 0)
        let hint = "swiftfab trust \(ip):\(hosts.port)"
        #expect(refused.output.contains(hint), "\(refused.output)")

        // The address alone names two of the Deployfile's hosts: say which.
        let ambiguous = try RunningSwiftfab(["trust", ip, "--yes"], in: dir, environment: home)
        #expect(try await ambiguous.exitStatus() == 64)
        #expect(ambiguous.output.contains("names 2 of the Deployfile's hosts") && ambiguous.output.contains("-e ENV"), "\(ambiguous.output)")
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).isEmpty)

        // The hint, as written (with --yes for the test), records the key the task meets; then the task runs.
        let trusted = try RunningSwiftfab(["trust", "\(ip):\(hosts.port)", "--yes"], in: dir, environment: home)
        #expect(try await trusted.exitStatus() == 0, "\(trusted.output)")
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).hasPrefix("[\(ip)]:\(hosts.port) ssh-ed25519 "))
        let ran = try RunningSwiftfab(["hello", "-e", "prod"], in: dir, environment: home)
        #expect(try await ran.exitStatus() == 0, "\(ran.output)")
        #expect(ran.output.contains("| hello-from-"), "\(ran.output)")

        // With -e the address alone is enough; the key is already there.
        let again = try RunningSwiftfab(["trust", ip, "-e", "prod"], in: dir, environment: home)
        #expect(try await again.exitStatus() == 0, "\(again.output)")
        #expect(again.output.contains("is already trusted"), "\(again.output)")
        let unknownOption = try RunningSwiftfab(["trust", ip, "--yse"], in: dir, environment: home)
        #expect(try await unknownOption.exitStatus() == 64)
        #expect(unknownOption.output.contains("--yse"), "\(unknownOption.output)")
        // Global options go before or after it, as for any task.
        let before = try RunningSwiftfab(["-e", "prod", "trust", ip], in: dir, environment: home)
        #expect(try await before.exitStatus() == 0, "\(before.output)")
        #expect(before.output.contains("is already trusted"), "\(before.output)")
    }
}
