import Foundation
import Testing
@testable import SwiftFab

/// Authentication in OpenSSH's order, and failures that say what was tried.
@Suite(.sandbox) struct AuthTests {
    var hosts: TestHosts { .shared }

    func failure(_ alias: String, _ config: (SSHConfig, ConnectionOptions)) async -> SwiftFabError? {
        do {
            let connection = try await SSHConnection.connect(alias, config: config.0, options: config.1)
            await connection.close()
            return nil
        } catch {
            return error as? SwiftFabError
        }
    }

    @Test func wrongKeyIsRefusedAndTheMessageListsWhatWasTried() async throws {
        let config = try hosts.customConfig(hosts.block("wrongkey", index: 2, identity: hosts.unauthorizedKey))
        let error = try #require(await failure("wrongkey", config))
        #expect(error.kind == .authentication)
        #expect(error.message.contains("permission denied for root@[\(hosts.ip(2))]:\(hosts.port)"))
        #expect(error.message.contains("\(hosts.unauthorizedKey) (refused)"))
        #expect(error.hint?.contains("authorized_keys") == true)
    }

    @Test func agentKeysAreTriedFirst() async throws {
        let dir = try TempDir.make().path
        let socket = dir + "/agent.sock"
        // In the foreground (-D) as our own child, so the test owns its lifetime.
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
        agent.arguments = ["-D", "-a", socket]
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer { agent.terminate() }
        // Until it answers: `ssh-add -l` says 1 (no keys) once the agent listens, 2 before.
        try await waitFor("ssh-agent to answer") {
            await Shell.runLocally(["/usr/bin/ssh-add", "-l"], environment: ["SSH_AUTH_SOCK": socket]).status != 2
        }
        await #expect(Shell.runLocally(["/usr/bin/ssh-add", hosts.clientKey], environment: ["SSH_AUTH_SOCK": socket]).status == 0)
        // The only identity file is refused; the agent's key must carry us in.
        let text = hosts.block("viaagent", index: 2, identity: hosts.unauthorizedKey).replacingOccurrences(of: "IdentitiesOnly yes", with: "IdentitiesOnly no")
        let config = try hosts.customConfig(text, options: hosts.options(agent: socket))
        let connection = try await SSHConnection.connect("viaagent", config: config.0, options: config.1)
        #expect(try await connection.run(Command("true")).succeeded)
        await connection.close()
        // IdentitiesOnly keeps agent keys that match no configured file out.
        let only = try hosts.customConfig(hosts.block("only", index: 2, identity: hosts.unauthorizedKey), options: hosts.options(agent: socket))
        let error = try #require(await failure("only", only))
        #expect(error.message.contains("ssh-agent (0 keys refused)"))
    }

    @Test func passphraseKeyFromAnEnvironmentVariable() async throws {
        let block = hosts.block("locked", index: 2, identity: hosts.passphraseKey)
        let good = try hosts.customConfig(block, options: hosts.options(passphraseVariable: "KEY_PASS",
                                                                         extraEnvironment: ["KEY_PASS": "correct horse"]))
        let connection = try await SSHConnection.connect("locked", config: good.0, options: good.1)
        #expect(try await connection.run(Command("true")).succeeded)
        await connection.close()

        let missing = try hosts.customConfig(block)
        let noPassphrase = try #require(await failure("locked", missing))
        #expect(noPassphrase.message.contains("passphrase-protected; no passphrase given"))
        #expect(noPassphrase.hint?.contains("--passphrase-env") == true)

        let wrong = try hosts.customConfig(block, options: hosts.options(passphraseVariable: "KEY_PASS", extraEnvironment: ["KEY_PASS": "battery staple"]))
        let badPassphrase = try #require(await failure("locked", wrong))
        #expect(badPassphrase.message.contains("wrong passphrase"))
        #expect(!badPassphrase.description.contains("battery staple"))
    }

    @Test func passwordOnlyWhereConfigured() async throws {
        // Port + 1000 of each test host also takes passwords; the main port is key-only.
        let index = 20, passwordPort = hosts.port + 1000
        let file = try TempDir.make().path + "/known_hosts"
        let key = try String(contentsOfFile: hosts.hostKeyPub(index), encoding: .utf8).split(separator: " ")
        try "[\(hosts.ip(index))]:\(passwordPort) \(key[0]) \(key[1])\n".write(toFile: file, atomically: true, encoding: .utf8)
        let block = hosts.block("pw", index: index, user: "deploy", identity: hosts.unauthorizedKey, knownHosts: file)
            .replacingOccurrences(of: "Port \(hosts.port)", with: "Port \(passwordPort)")
        var options = hosts.options()
        options.password = Secret(hosts.deployPassword)
        // A password alone is not used: the user has to enable password auth.
        let notEnabled = try #require(await failure("pw", try hosts.customConfig(block, options: options)))
        #expect(notEnabled.message.contains("the server accepts: publickey, password"))
        #expect(!notEnabled.message.contains("password (refused)"))
        options.allowPassword = true
        let config = try hosts.customConfig(block, options: options)
        let connection = try await SSHConnection.connect("pw", config: config.0, options: config.1)
        #expect(try await connection.run(Command("id", "-un")).stdoutText == "deploy\n")
        await connection.close()
        // PasswordAuthentication yes in the ssh config enables it too; a wrong one is refused, never shown.
        options.allowPassword = false
        options.password = Secret("not-the-password")
        let wrong = try hosts.customConfig(block + "    PasswordAuthentication yes\n", options: options)
        let refused = try #require(await failure("pw", wrong))
        #expect(refused.message.contains("password (refused)"))
        #expect(!refused.description.contains("not-the-password"))
    }

    @Test func rsaKeyWithOldLibssh2IsExplained() async throws {
        let config = try hosts.customConfig(hosts.block("rsa", index: 2, identity: hosts.rsaKey))
        let error = await failure("rsa", config)
        if LibSSH2.canSignRSASHA2 {
            #expect(error == nil)
        } else {
            let error = try #require(error)
            #expect(error.message.contains("RSA key"))
            #expect(error.message.contains("OpenSSH 8.8"))
            #expect(error.hint?.contains("ed25519") == true)
            #expect(error.hint?.contains("libssh2 1.11") == true)
        }
    }
}

/// Hosts that cannot be reached fail fast, naming the host.
@Suite(.sandbox) struct ConnectionFailureTests {
    var hosts: TestHosts { .shared }

    @Test func refusedPortFailsAtOnce() async throws {
        // A long ConnectTimeout: a refused port must fail without waiting it out.
        let text = hosts.block("closed", index: 2, extra: "    ConnectTimeout 60").replacingOccurrences(of: "Port \(hosts.port)", with: "Port 1")
        let config = try hosts.customConfig(text)
        do {
            _ = try await SSHConnection.connect("closed", config: config.0, options: config.1)
            Issue.record("connected to a closed port")
        } catch let error as SwiftFabError {
            #expect(error.kind == .connection)
            // Refused at once, not timed out after the 60 s the config allows.
            #expect(error.description.hasPrefix("closed: cannot connect to \(hosts.ip(2)) port 1: connection refused"))
        }
    }

    @Test func silentServerTimesOutWithinConnectTimeout() async throws {
        // A listener that accepts and never speaks: the SSH greeting never comes.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(listener, 8)
        defer { close(listener) }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: bound.sin_port))
        let text = "Host silent\n    HostName 127.0.0.1\n    Port \(port)\n    ConnectTimeout 1\n    UserKnownHostsFile \(hosts.knownHosts)\n"
        let config = try hosts.customConfig(text)
        do {
            _ = try await SSHConnection.connect("silent", config: config.0, options: config.1)
            Issue.record("connected to a silent server")
        } catch let error as SwiftFabError {
            #expect(error.host == "silent")
            #expect(error.message.contains("no SSH greeting from 127.0.0.1 port \(port) within 1.00s"))
        }
        // The message proves the 1 s ConnectTimeout ended the wait (how long the test took includes waiting for a thread).
    }

    @Test func unknownHostNameIsNamed() async throws {
        let config = try hosts.customConfig("Host ghost\n    HostName no-such-host.invalid\n")
        do {
            _ = try await SSHConnection.connect("ghost", config: config.0, options: config.1)
            Issue.record("resolved an invalid name")
        } catch let error as SwiftFabError {
            #expect(error.description.hasPrefix("ghost: cannot resolve no-such-host.invalid"))
        }
    }
}

/// A peer that stops answering mid-command is detected by keepalives.
@Suite(.sandbox) struct KeepaliveTests {
    var hosts: TestHosts { .shared }

    @Test(.timeLimit(.minutes(1))) func silentPeerIsDetected() async throws {
        let (config, options) = try hosts.customConfig(hosts.block("frozen", index: 18, extra: "    ServerAliveInterval 1\n    ServerAliveCountMax 2"))
        let connection = try await SSHConnection.connect("frozen", config: config, options: options)
        let named = "/tmp/swiftfab-frozen-\(UUID().uuidString.prefix(8))"  // /tmp is the machine's: the test reads it
        do {
            // Freeze this session's sshd process (and no other test's): no data, no keepalive replies.
            _ = try await connection.run(.raw("echo $PPID > \(named); kill -STOP $PPID; sleep 60"), ExecOptions())
            Issue.record("a frozen peer went unnoticed")
        } catch let error as SwiftFabError {
            #expect(error.kind == .connection)
            #expect(error.message.contains("no answer for"))
            #expect(error.message.contains("ServerAliveCountMax 2"))
        }
        await connection.close()
        // Free the frozen process so it can end with its connection.
        _ = await Shell.runLocally(["/bin/sh", "-c", "kill -CONT $(cat \(named)); rm -f \(named)"])
    }

    /// A command that prints nothing for longer than one probe interval, on a
    /// host that answers every probe at once, is not a silent peer. (libssh2
    /// probes at most every 2 s: counted as every second, such a command
    /// failed as soon as one answer was late.)
    @Test(.timeLimit(.minutes(1))) func aQuietCommandOnAHealthyHostRunsToItsEnd() async throws {
        // Silence allowed: 5 s (libssh2 probes every 2 s at most, one probe may go unanswered, 1 s for its clock).
        let (config, options) = try hosts.customConfig(hosts.block("quiet", index: 18, extra: "    ServerAliveInterval 1\n    ServerAliveCountMax 1"))
        let connection = try await SSHConnection.connect("quiet", config: config, options: options)
        do {
            let result = try await connection.run(.raw("sleep 8; echo done"), ExecOptions())
            #expect(result.stdoutText == "done\n")
        } catch {
            Issue.record(error)
        }
        await connection.close()
    }

    /// A connection left idle for longer than its silence limit
    /// (a pause between batches, local work in a task) is not a silent peer:
    /// its next command waits for a slow answer as long as a fresh one would.
    /// The answer is made slow for real: the connection's sshd is stopped
    /// while the command asks for its channel, and continued a moment later.
    @Test(.timeLimit(.minutes(1))) func anIdleConnectionIsNotASilentPeer() async throws {
        let (config, options) = try hosts.customConfig(hosts.block("idle", index: 18, extra: "    ServerAliveInterval 1\n    ServerAliveCountMax 1"))
        let connection = try await SSHConnection.connect("idle", config: config, options: options)
        let marks = "/tmp/swiftfab-idle-\(UUID().uuidString.prefix(8))"
        // The connection's own sshd waits for the first mark to stop, for the second to go on.
        let helper = try await connection.run(.raw("""
            sshd=$PPID; (while [ ! -e \(marks).stop ]; do sleep 0.02; done; kill -STOP $sshd; \
            while [ ! -e \(marks).go ]; do sleep 0.02; done; kill -CONT $sshd) </dev/null >/dev/null 2>&1 & echo $sshd
            """), ExecOptions())
        let sshd = helper.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        // Idle past its 5 s of allowed silence, as if a minute had gone by since the host last spoke.
        try await connection.backdateLastHeard(by: 60)
        func local(_ script: String) async -> String { await Shell.runLocally(["/bin/sh", "-c", script]).output }
        _ = await local("touch \(marks).stop")
        try await waitFor("the connection's sshd to be stopped") { await local("cut -d' ' -f3 /proc/\(sshd)/stat") == "T\n" }
        async let next = connection.run(.raw("echo still here"), ExecOptions())
        _ = await local("touch \(marks).go")
        let after = try await next
        #expect(after.stdoutText == "still here\n")
        _ = await local("rm -f \(marks).stop \(marks).go; kill -CONT \(sshd) 2>/dev/null")
        await connection.close()
    }
}
