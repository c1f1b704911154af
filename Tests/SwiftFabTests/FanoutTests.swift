import Foundation
import Testing
@testable import SwiftFab

/// Many hosts at once, ssh_config aliases, and ProxyJump.
@Suite(.sandbox) struct FanoutTests {
    var hosts: TestHosts { .shared }

    @Test func fiftyHostsAtOnce() async throws {
        let names = (1...TestHosts.count).map { "th\($0)" }
        let adHoc = AdHoc(hosts: names, config: try hosts.config(), options: hosts.options(), parallel: 50)
        let lines = LineLog()
        let printer = HostPrinter(hosts: names, style: .plain) { _, text in lines.add(text) }
        let reports = await adHoc.exec(.raw("echo $SSH_CONNECTION"), ExecOptions(timeout: 30), printer: printer)
        #expect(reports.map(\.host) == names)
        #expect(reports.allSatisfy { $0.status == .ok })
        #expect(HostReport.exitCode(reports) == 0)
        // Each host answered from its own address, and its line carries its label.
        for (index, report) in reports.enumerated() {
            let fields = report.result?.stdoutText.split(separator: " ") ?? []
            #expect(fields.count == 4 && fields[2] == hosts.ip(index + 1)[...], "\(report.host)")
        }
        let printed = lines.all.split(separator: "\n")
        #expect(printed.count == TestHosts.count)
        #expect(printed.contains { $0.hasPrefix("th50 | ") && $0.hasSuffix(" \(hosts.ip(50)) \(hosts.port)") })
    }

    @Test func failuresAreReportedPerHost() async throws {
        let (config, options) = try hosts.customConfig(hosts.block("good", index: 11) + "Host down\n    HostName 127.0.0.1\n    Port 1\n")
        let adHoc = AdHoc(hosts: ["good", "down"], config: config, options: options)
        let printer = HostPrinter(hosts: adHoc.hosts, style: .plain) { _, _ in }
        let fails = await adHoc.exec(.raw("exit 4"), ExecOptions(), printer: printer)
        #expect(fails[0].status == .failed("exit 4"))
        if case .error(let error) = fails[1].status { #expect(error.kind == .connection) } else { Issue.record("down was not an error") }
        // A host that could not be used fails the run as a failed command does, as in a task.
        #expect(HostReport.exitCode(fails) == 1 && HostReport.exitCode([fails[1]]) == 1)
        #expect(HostReport.exitCode([fails[0]]) == 1)
        let table = Summary.table(fails, style: .plain)
        #expect(table.contains("good  FAILED (exit 4"))
        #expect(table.contains("down  ERROR cannot connect to 127.0.0.1 port 1"))
        #expect(table.contains("2 of 2 hosts failed"))
    }

    @Test func sshConfigAliasesResolve() async throws {
        let text = """
            Host app-*
                User deploy
                IdentityFile \(hosts.clientKey)
                IdentitiesOnly yes
                UserKnownHostsFile \(hosts.knownHosts)
            Host app-blue
                HostName \(hosts.ip(12))
            Host app-green
                HostName \(hosts.ip(13))
            Host *
                Port \(hosts.port)
                User root
            """
        let (config, options) = try hosts.customConfig(text)
        for (alias, index) in [("app-blue", 12), ("app-green", 13)] {
            let connection = try await SSHConnection.connect(alias, config: config, options: options)
            let result = try await connection.run(.raw("id -un; echo $SSH_CONNECTION"))
            let lines = result.stdoutText.split(separator: "\n")
            #expect(lines.first == "deploy")  // the first User obtained wins
            #expect(lines.last?.split(separator: " ")[2] == hosts.ip(index)[...])
            await connection.close()
        }
        // user@alias on the command line overrides the config's User.
        let root = try await SSHConnection.connect("root@app-blue", config: config, options: options)
        #expect(try await root.run(Command("id", "-un")).stdoutText == "root\n")
        await root.close()
    }

    @Test func proxyJumpThroughATestHost() async throws {
        let text = hosts.block("bastion", index: 14) + hosts.block("inner", index: 15, extra: "    ProxyJump bastion")
            + hosts.block("inner2", index: 16, extra: "    ProxyJump bastion,inner")
        let (config, options) = try hosts.customConfig(text)
        for alias in ["inner", "inner2"] {
            let connection = try await SSHConnection.connect(alias, config: config, options: options)
            let result = try await connection.run(.raw("echo $SSH_CONNECTION"))
            let fields = result.stdoutText.split(separator: " ")
            #expect(fields[2] == hosts.ip(alias == "inner" ? 15 : 16)[...])
            // The connection's client end belongs to the previous hop's sshd, not to us.
            let owner = await Shell.runLocally(["/bin/sh", "-c", "ss -tnpH state established src \(fields[0]):\(fields[1])"]).output
            #expect(owner.contains("sshd"), "\(alias): \(owner)")
            #expect(!owner.contains("swiftfab"))
            // Large data through the tunnel.
            let big = try await connection.run(.raw("head -c 5000000 /dev/zero"))
            #expect(big.stdout.count == 5_000_000)
            await connection.close()
        }
    }

    /// ProxyCommand carries the connection through its stdin and stdout: nc
    /// (the host reached from here), ssh -W through a bastion; the host key is
    /// still checked against known_hosts; the command ends with the connection;
    /// one that cannot reach the host fails with what it said.
    @Test func proxyCommandThroughNcAndABastion() async throws {
        let marker = "swiftfab-proxy-\(UUID().uuidString.prefix(8))"
        let text = hosts.block("via-nc", index: 17, extra: "    ProxyCommand sh -c 'nc \"$1\" \"$2\"' \(marker) %h %p")
            + hosts.block("via-bastion", index: 18, extra: "    ProxyCommand ssh -F \(hosts.sshConfig) -W %h:%p th14")
            + hosts.block("unreachable", index: 19, extra: "    ProxyCommand nc -w 2 %h 1")
            + hosts.block("wrong-key", index: 20, knownHosts: "/dev/null", extra: "    ProxyCommand nc %h %p")
        let (config, options) = try hosts.customConfig(text)
        func proxies() async -> String { await Shell.runLocally(["/bin/sh", "-c", "pgrep -f [\(marker.prefix(1))]\(marker.dropFirst()) || true"]).output }
        for (alias, via) in [("via-nc", hosts.ip(17)), ("via-bastion", hosts.ip(14))] {
            let connection = try await SSHConnection.connect(alias, config: config, options: options)
            if alias == "via-nc" { await #expect(!proxies().isEmpty) }
            let fields = try await connection.run(.raw("echo $SSH_CONNECTION")).stdoutText.split(separator: " ")
            #expect(fields[2] == hosts.ip(alias == "via-nc" ? 17 : 18)[...], "\(fields)")
            // The client end is the proxy's: nc on this machine, or the bastion's sshd.
            let owner = await Shell.runLocally(["/bin/sh", "-c", "ss -tnpH state established src \(fields[0]):\(fields[1])"]).output
            #expect(owner.contains(alias == "via-nc" ? "\"nc\"" : "sshd"), "\(alias) via \(via): \(owner)")
            let big = try await connection.run(.raw("head -c 3000000 /dev/zero"))
            #expect(big.stdout.count == 3_000_000)
            await connection.close()
        }
        // The proxy ends with its connection.
        try await waitFor("the ProxyCommand to end with its connection") { await proxies().isEmpty }
        await #expect { _ = try await SSHConnection.connect("unreachable", config: config, options: options) } throws: { error in
            let failure = error as? SwiftFabError
            return failure?.message.hasPrefix("no SSH connection through ProxyCommand") == true
                && failure?.hint?.contains("ProxyCommand `nc -w 2 \(hosts.ip(19)) 1` exited with status 1") == true
        }
        // Through a proxy as directly: a host key known_hosts does not hold is refused.
        await #expect { _ = try await SSHConnection.connect("wrong-key", config: config, options: options) } throws: { error in
            (error as? SwiftFabError)?.kind == .hostKey
        }
    }
}

final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func add(_ line: String) { lock.lock(); text += line; lock.unlock() }
    var all: String { lock.lock(); defer { lock.unlock() }; return text }
}
