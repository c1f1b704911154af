import Crypto
import Foundation
import Testing
@testable import SwiftFab

/// Commands over a real sshd: exit codes, signals, streams, stdin, time-outs.
@Suite(.sandbox) struct ExecTests {
    var hosts: TestHosts { .shared }

    @Test func secretEnvironmentValuesNeverShowInTheProcessList() async throws {
        let token = "tok-\(UUID().uuidString.prefix(8))"
        let gate = "/tmp/swiftfab-gate-\(UUID().uuidString.prefix(8))"
        // The command waits for the test to look at the process list, then runs on.
        let command = Command(shell: "while [ ! -e \(gate) ]; do sleep 0.05; done; printf '%s|%s|' \"$TOKEN\" \"$PLAIN\"; cat")
            .with(secretEnvironment: ["TOKEN": Secret(token)]).with(environment: ["PLAIN": "in the open"])
        let runner = try await hosts.connect("th14")
        let watcher = try await hosts.connect("th14")
        async let result = runner.run(command, ExecOptions(stdin: Data("its own stdin".utf8)))
        var listing = ""
        let deadline = monotonicNow() + 30
        while !listing.contains(gate) && monotonicNow() < deadline {
            listing = try await watcher.run(.raw("ps -eo args | grep -v -e '^ps' -e grep")).stdoutText
        }
        _ = try await watcher.run(Command("touch", gate))
        let finished = try await result
        _ = try await watcher.run(Command("rm", "-f", gate))
        #expect(listing.contains(gate), "the command never showed in the process list: \(listing)")
        #expect(!listing.contains(token))
        // The command got the secret, the plain value, and its own stdin after the secret's line.
        #expect(finished.stdoutText == "\(token)|in the open|its own stdin", "\(finished.stderrText)")
        #expect(!command.display.contains(token))
        await runner.close()
        await watcher.close()
    }

    @Test func exitCodesAndStreamsStaySeparate() async throws {
        try await hosts.withConnection("th1") { connection in
            let result = try await connection.run(.raw("echo out; echo err >&2; exit 3"))
            #expect(result.exitStatus == 3)
            #expect(result.exitSignal == nil)
            #expect(result.stdoutText == "out\n")
            #expect(result.stderrText == "err\n")
            #expect(!result.succeeded)
            let ok = try await connection.run(Command("true"))
            #expect(ok.succeeded && ok.exitStatus == 0)
        }
    }

    @Test func exitSignalIsReported() async throws {
        try await hosts.withConnection("th1") { connection in
            let result = try await connection.run(.raw("kill -KILL $$"))
            #expect(result.exitSignal == "KILL")
            #expect(result.summary == "killed by SIGKILL")
        }
    }

    @Test func oneSessionServesManyCommands() async throws {
        try await hosts.withConnection("th1") { connection in
            var peers = Set<String>()
            for _ in 0..<20 {
                // SSH_CONNECTION names our client port: one session means one port.
                let result = try await connection.run(.raw("echo $SSH_CONNECTION"))
                peers.insert(result.stdoutText)
            }
            #expect(peers.count == 1)
        }
    }

    @Test func twentyMegabytesOnBothStreamsAtOnce() async throws {
        try await hosts.withConnection("th1") { connection in
            let size = 20_000_000
            let counter = ByteCounter()
            let script = "head -c \(size) /dev/zero | tr '\\0' o & head -c \(size) /dev/zero | tr '\\0' e >&2; wait"
            let result = try await connection.run(.raw(script), ExecOptions(timeout: 120, onOutput: { counter.add($0) }))
            #expect(result.succeeded)
            // The result keeps the end of each stream and says how much came before.
            let kept = ExecOptions.defaultKeepOutput
            #expect(result.stdout.count == kept && result.stdoutDroppedBytes == Int64(size - kept) && result.stdoutTruncated)
            #expect(result.stderr.count == kept && result.stderrDroppedBytes == Int64(size - kept) && result.stderrTruncated)
            #expect(result.stdout.allSatisfy { $0 == UInt8(ascii: "o") })
            #expect(result.stderr.allSatisfy { $0 == UInt8(ascii: "e") })
            // Streamed as it arrived, in more than one piece, adding up to the same.
            #expect(counter.totals == [.stdout: size, .stderr: size])
            #expect(counter.chunks > 2)
        }
    }

    @Test func stdinIsDeliveredWhileOutputFlows() async throws {
        try await hosts.withConnection("th1") { connection in
            let input = Data((0..<5_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            // cat echoes everything back while we are still sending: both windows fill.
            let echoed = try await connection.run(Command("cat"), ExecOptions(stdin: input, timeout: 60))
            #expect(echoed.stdout == input)
            let hashed = try await connection.run(Command("sha256sum"), ExecOptions(stdin: input, timeout: 60))
            let expected = SHA256.hash(data: input).map { String(format: "%02x", $0) }.joined()
            #expect(hashed.stdoutText.hasPrefix(expected))
        }
    }

    /// Output that never pauses gives the connection no moment to wait: the
    /// time-out must still be seen, and the flood stopped.
    @Test func timeoutStopsACommandThatNeverStopsPrinting() async throws {
        try await hosts.withConnection("th1") { connection in
            let word = "flood\(Int.random(in: 100_000...999_999))"
            // `yes` writes faster than any reader: there is always more to read, so no wait ever comes.
            let result = try await connection.run(Command("yes", word), ExecOptions(timeout: 1))
            #expect(result.timedOut)
            #expect(result.stdoutText.contains(word))
            try await waitFor("the remote yes to end", seconds: 10) {
                await RunningSwiftfab.processes(matching: "^yes \(word)").isEmpty
            }
            #expect(try await connection.run(Command("true")).succeeded)
        }
    }

    @Test func timeoutKillsTheRemoteProcessGroup() async throws {
        try await hosts.withConnection("th1") { connection in
            let marker = "31.\(Int.random(in: 1000...9999))"
            let result = try await connection.run(.raw("sleep \(marker) & sleep \(marker); echo never"), ExecOptions(timeout: 1))
            #expect(result.timedOut)
            #expect(!result.stdoutText.contains("never"))
            #expect(result.duration < 20)  // far below the 31 s the command asks for (measured by the connection itself)
            #expect(!result.stderrText.contains("swiftfab-pid"))
            // Neither the command nor its background child survives (the KILL follows the TERM within 2 s).
            try await waitFor("the sleeps to end", seconds: 10) {
                await RunningSwiftfab.processes(matching: "^sleep \(marker)").isEmpty
            }
            // The session stays usable after a time-out.
            #expect(try await connection.run(Command("true")).succeeded)
        }
    }

    @Test func environmentAndArgumentsAreQuoted() async throws {
        try await hosts.withConnection("th1") { connection in
            let tricky = "it's \"quoted\" $HOME `id` $(touch /tmp/swiftfab-pwned) ; exit 9"
            let printed = try await connection.run(Command("printf", "%s|", tricky, "a b", ""))
            #expect(printed.stdoutText == tricky + "|a b||")
            let env = try await connection.run(Command.raw("printf %s \"$GREETING\"").with(environment: ["GREETING": tricky]))
            #expect(env.stdoutText == tricky)
            let pwned = try await connection.run(.raw("test -e /tmp/swiftfab-pwned && echo yes || echo no"))
            #expect(pwned.stdoutText == "no\n")
            let within = try await connection.run(Command("pwd").within("/srv"))
            #expect(within.stdoutText == "/srv\n")
        }
    }

    @Test func ptyOnRequest() async throws {
        try await hosts.withConnection("th1") { connection in
            let withTTY = try await connection.run(Command("tty"), ExecOptions(pty: true))
            #expect(withTTY.stdoutText.hasPrefix("/dev/pts/"))
            let without = try await connection.run(Command("tty"))
            #expect(without.stdoutText.hasPrefix("not a tty"))
        }
    }

    @Test func sudoWithPasswordNeverShowsIt() async throws {
        try await hosts.withConnection("deploy-th2") { connection in
            let seen = ByteCounter()
            let command = Command.raw("id -un; echo \(hosts.deployPassword) >&2").asSudo()
            let result = try await connection.run(command, ExecOptions(sudoPassword: Secret(hosts.deployPassword), onOutput: { seen.add($0) }))
            #expect(result.succeeded)
            #expect(result.stdoutText == "root\n")
            #expect(!result.stdoutText.contains(hosts.deployPassword))
            #expect(!result.stderrText.contains(hosts.deployPassword))
            #expect(!seen.text.contains(hosts.deployPassword))
            #expect(result.stderrText.contains("[secret]"))
            // stdin reaches the command only after sudo took the password.
            let piped = try await connection.run(Command("cat").asSudo(), ExecOptions(stdin: Data("payload".utf8), sudoPassword: Secret(hosts.deployPassword)))
            #expect(piped.stdoutText == "payload")
            // As another user.
            let asDeploy = try await connection.run(Command("id", "-un").asSudo(user: "deploy"), ExecOptions(sudoPassword: Secret(hosts.deployPassword)))
            #expect(asDeploy.stdoutText == "deploy\n")
        }
    }

    @Test func sudoWithWrongOrMissingPassword() async throws {
        try await hosts.withConnection("deploy-th2") { connection in
            await #expect(throws: SwiftFabError.self) {
                _ = try await connection.run(Command("true").asSudo(), ExecOptions(sudoPassword: Secret("wrong-password")))
            }
            do {
                _ = try await connection.run(Command("true").asSudo(), ExecOptions(sudoPassword: Secret("wrong-password")))
            } catch let error as SwiftFabError {
                #expect(error.kind == .authentication)
                #expect(error.description.contains("sudo refused the password"))
                #expect(!error.description.contains("wrong-password"))
            }
            // Without a password sudo must not hang waiting for one.
            let result = try await connection.run(Command("true").asSudo(), ExecOptions(timeout: 10))
            #expect(!result.succeeded && !result.timedOut)
            #expect(result.stderrText.contains("password"))
        }
    }
}

/// Collects streamed output from the transport's thread.
final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var totals: [StdStream: Int] = [:]
    private(set) var chunks = 0
    private var bytes = Data()

    func add(_ chunk: OutputChunk) {
        lock.lock()
        defer { lock.unlock() }
        totals[chunk.stream, default: 0] += chunk.bytes.count
        chunks += 1
        if bytes.count < 1_000_000 { bytes.append(chunk.bytes) }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
