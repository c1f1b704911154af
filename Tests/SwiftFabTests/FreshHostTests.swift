import Foundation
import Testing
@testable import SwiftFab

/// The fresh servers (`scripts/freshhosts`, `Support/FreshHosts.swift`) are
/// servers of their own, as a new Debian 12 VPS is: what is installed, added
/// or started there stays there, and a reboot restarts what systemd runs.
/// Measured here: reset 3 s, apt-get update 3 s, hello and sl 1 s, nginx-light 5 s,
/// reboot 1.5 s (the first run also builds the image: 2 to 3 minutes).
@Suite(.serialized, .sandbox) struct FreshHostTests {
    var hosts: FreshHosts { .shared }
    var host: String { hosts.alias(1) }

    /// Runs `script` as root on the host; it must succeed.
    static func run(_ connection: SSHConnection, _ script: String) async throws -> String {
        let result = try await connection.run(.raw("export DEBIAN_FRONTEND=noninteractive; " + script), ExecOptions(timeout: 300))
        guard result.succeeded else {
            throw SwiftFabError(.command, "\(script) failed (\(result.exitStatus)): \(result.stderrText)\(result.stdoutText)")
        }
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The machine's answer to `dpkg -s` or `getent`: what the host must not change.
    static func onMachine(_ arguments: String...) async -> Int32 {
        await Shell.runLocally(arguments).status
    }

    @Test(.timeLimit(.minutes(10))) func packagesAndUsersStayOnTheHost() async throws {
        try await FreshHosts.started()
        try await hosts.reset(1)
        let user = "fresh" + UUID().uuidString.prefix(6).lowercased()
        // sl, as no other test installs it on the machine (ProvisionTests installs and removes hello there).
        let machineSl = await Self.onMachine("/usr/bin/dpkg", "-s", "sl")
        try await hosts.withConnection(host) { connection in
            // A VPS image: systemd boots it, only sshd listens, provision's packages are not there.
            #expect(try await Self.run(connection, "cat /proc/1/comm") == "systemd")
            #expect(try await Self.run(connection, "hostname") == host)
            #expect(try await Self.run(connection, "systemctl is-active ssh") == "active")
            let listening = try await Self.run(connection, "ss -Hltun | awk '{print $5}'").split(separator: "\n")
            #expect(!listening.isEmpty && listening.allSatisfy { $0.hasSuffix(":22") }, "\(listening)")
            for package in ["nginx", "nginx-light", "postgresql", "supervisor", "hello", "sl"] {
                #expect(try await Self.run(connection, "dpkg -s \(package) >/dev/null 2>&1 && echo installed || echo absent") == "absent",
                        "\(package) on a fresh host")
            }
            // apt reaches Debian's mirrors; the packages land in the host's database only.
            _ = try await Self.run(connection, "apt-get -q update >/dev/null && apt-get install -y -q hello sl >/dev/null")
            #expect(try await Self.run(connection, "hello") == "Hello, world!")
            #expect(try await Self.run(connection, "dpkg -s sl | grep '^Status:'") == "Status: install ok installed")
            #expect(await Self.onMachine("/usr/bin/dpkg", "-s", "sl") == machineSl, "the machine's package database changed")
            if machineSl != 0 { #expect(!FileManager.default.fileExists(atPath: "/usr/games/sl")) }
            // So do users.
            _ = try await Self.run(connection, "useradd --create-home \(user)")
            #expect(try await Self.run(connection, "id -u \(user)") == "1000")
            #expect(await Self.onMachine("/usr/bin/getent", "passwd", user) == 2, "\(user) appeared on the machine")
            #expect(!FileManager.default.fileExists(atPath: "/home/" + user))
        }
    }

    @Test(.timeLimit(.minutes(10))) func aRebootRestartsWhatSystemdRunsWithTheSameHostKey() async throws {
        try await FreshHosts.started()
        try await hosts.reset(1)
        let ip = hosts.ip(1)
        var hostKey = ""
        try await hosts.withConnection(host) { connection in
            // As on a VPS, apt starts the nginx it installs, with Debian's log permissions.
            _ = try await Self.run(connection, "apt-get -q update >/dev/null && apt-get install -y -q nginx-light >/dev/null")
            #expect(try await Self.run(connection, "systemctl is-active nginx") == "active")
            #expect(try await Self.run(connection, "systemctl is-enabled nginx") == "enabled")
            #expect(try await Self.run(connection, "stat -c '%U:%G %a' /var/log/nginx /var/log/nginx/access.log /var/log/nginx/error.log")
                == "root:adm 755\nwww-data:adm 640\nwww-data:adm 640")
            hostKey = try await Self.run(connection, "cat /etc/ssh/ssh_host_ed25519_key.pub")
            _ = try await Self.run(connection, "touch /run/before-the-reboot")
        }
        #expect(LoadGenerator.request(host: ip, port: hosts.httpPort, path: "/").status == 200, "the host's port 80 from the machine")

        try await hosts.reboot(1)
        // known_hosts is unchanged and checked strictly: connecting proves the key is the same.
        try await hosts.withConnection(host) { connection in
            let keyAfter = try await Self.run(connection, "cat /etc/ssh/ssh_host_ed25519_key.pub")
            #expect(keyAfter == hostKey)
            #expect(try await Self.run(connection, "test -e /run/before-the-reboot && echo kept || echo gone") == "gone", "/run survived the reboot")
            #expect(try await Self.run(connection, "systemctl is-active nginx") == "active")
            #expect(try await Self.run(connection, "stat -c '%U:%G %a' /var/log/nginx") == "root:adm 755")
        }
        #expect(LoadGenerator.request(host: ip, port: hosts.httpPort, path: "/").status == 200, "nginx after the reboot")
    }
}
