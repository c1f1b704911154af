import Foundation
import Testing
@testable import SwiftFab

/// stdin streamed over SSH, after the secret lines a command reads first.
@Suite(.sandbox) struct StdinStreamingTests {
    var hosts: TestHosts { .shared }

    @Test func streamedStdinFollowsSecretLinesAndGivenBytes() async throws {
        let token = "tok-\(UUID().uuidString.prefix(8))"
        let command = Command(shell: "printf '%s|' \"$TOKEN\"; cat").with(secretEnvironment: ["TOKEN": Secret(token)])
        let streamed = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        let fd = try feedPipe(streamed)
        defer { close(fd) }
        var options = ExecOptions(stdin: Data("given|".utf8), timeout: 60)
        options.stdinSource = .stream(fd)
        try await hosts.withConnection("th44") { connection in
            let result = try await connection.run(command, options)
            #expect(result.succeeded, "\(result.stderrText)")
            #expect(result.stdout == Data("\(token)|given|".utf8) + streamed)
        }
    }

    /// The read end of a pipe a thread fills with `data`, then closes.
    private func feedPipe(_ data: Data) throws -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SwiftFabError(.local, "pipe failed") }
        fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        let writeEnd = fds[1]
        Thread {
            _ = data.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            close(writeEnd)
        }.start()
        return fds[0]
    }
}

/// The kernel also watches each connection (TCPKeepAlive), unless the config says no.
@Suite(.sandbox) struct TCPKeepAliveTests {
    var hosts: TestHosts { .shared }

    @Test func sshSocketsHaveKeepAlive() throws {
        for wanted in [true, false] {
            let fd = try Socket.connect(host: hosts.ip(1), port: hosts.port, timeout: 5, label: "th1", keepAlive: wanted)
            defer { close(fd) }
            var value: Int32 = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            #expect(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &value, &length) == 0)
            #expect((value != 0) == wanted)
        }
    }
}

/// The real `swiftfab` binary moves a gigabyte each way in bounded memory.
@Suite(.serialized, .sandbox) struct MemoryBoundTests {
    var hosts: TestHosts { .shared }
    static let gigabyte = 1 << 30
    static let limitMB = 100.0

    @Test func remoteOutputOfAGigabyte() async throws {
        let run = try await measured("SWIFTFAB exec -F \(hosts.sshConfig) -H th41 -- 'head -c \(Self.gigabyte) /dev/zero' >/dev/null")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("1 host ok"))
        #expect(run.peakMB < Self.limitMB, "peak RSS \(run.peakMB) MB")
        print("exec of 1 GiB remote output: peak RSS \(run.peakMB) MB")
    }

    @Test func stdinOfAGigabyte() async throws {
        let run = try await measured("head -c \(Self.gigabyte) /dev/zero | SWIFTFAB exec --stdin -F \(hosts.sshConfig) -H th42 -- 'wc -c'")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("th42 | \(Self.gigabyte)\n"), "\(run.output)")
        #expect(run.peakMB < Self.limitMB, "peak RSS \(run.peakMB) MB")
        print("exec --stdin of 1 GiB: peak RSS \(run.peakMB) MB")
    }

    /// A login shell that prints 300 MB before the command starts (a noisy
    /// .bashrc): the client keeps bounded memory, shows what it printed, and
    /// the command still runs with its PID known.
    @Test func aLoginShellThatPrintsHundredsOfMegabytesFirst() async throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let user = "sfn\(tag)", home = "/srv/noisy-\(tag)"
        let shell = "#!/bin/sh\nhead -c 300000000 /dev/zero | tr '\\0' x >&2\nprintf '\\nswiftfab-pi\\n' >&2\nexec /bin/sh \"$@\"\n"
        let key = try String(contentsOfFile: hosts.clientKey + ".pub", encoding: .utf8)
        try await hosts.withConnection("th41") { root in
            let keys = hosts.directory + "/authorized_keys/" + user
            let script = "mkdir -p \(home) && printf '%s' \(Shell.quote(shell)) > \(home)/shell && chmod 755 \(home) \(home)/shell && "
                + "useradd -M -p '*' -d \(home) -s \(home)/shell \(user) && printf '%s' \(Shell.quote(key)) > \(keys) && chmod 644 \(keys)"
            let setup = try await root.run(.raw(script))
            #expect(setup.succeeded, "\(setup.stderrText)")
            defer { _ = Shell.runLocallyBlocking(["/bin/sh", "-c", "userdel \(user); rm -f \(hosts.directory)/authorized_keys/\(user)"]) }
            let config = try TempDir.make().path + "/config"
            try hosts.block("noisy", index: 41, user: user).write(toFile: config, atomically: true, encoding: .utf8)
            // The lines of x (in pieces) are counted, not kept; everything else is kept.
            let count = #"awk '/^noisy \| x+$/ { x += length($0) - 8; next } { print } END { print "noise", x }'"#
            let run = try await measured("{ SWIFTFAB exec -F \(config) -H noisy -- 'echo \"command ran in $$\"'; echo \"exit $?\"; } 2>&1 | \(count)")
            #expect(run.output.hasSuffix("exit 0\nnoise 300000000\n"), "\(run.output)")
            #expect(run.output.contains("noisy | command ran in ") && run.output.contains("noisy | swiftfab-pi\n"), "\(run.output)")
            #expect(run.peakMB < Self.limitMB, "peak RSS \(run.peakMB) MB")
            print("exec after a login shell printed 300 MB: peak RSS \(run.peakMB) MB")
            _ = try await root.run(.raw("rm -rf \(home)"))
        }
    }

    /// Runs a shell pipeline with `SWIFTFAB` standing for the binary under
    /// /usr/bin/time, which reports the peak RSS the kernel recorded (wait4)
    /// for it once it exited. `timeout` turns a hang into a failure.
    private func measured(_ pipeline: String) async throws -> (status: Int32, output: String, peakMB: Double) {
        let report = try TempDir.make().path + "/peak-rss"
        let command = pipeline.replacingOccurrences(of: "SWIFTFAB", with: "/usr/bin/time -f %M -o \(report) timeout 300 \(CLITests.binary)")
        let run = await Shell.runLocally(["/bin/sh", "-c", command], environment: ["NO_COLOR": "1"])
        // The last line is the figure in KiB (a line before it may note a non-zero exit).
        let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
        let kib = text.split(separator: "\n").last.flatMap { Double($0) } ?? .infinity
        return (run.status, run.output, kib / 1024)
    }
}

/// A host that stops answering in the middle of a command fails the run
/// within seconds, with a message that says so (ServerAliveInterval).
@Suite(.sandbox) struct DeadHostTests {
    var hosts: TestHosts { .shared }

    @Test(.timeLimit(.minutes(2))) func frozenHostFailsTheRunQuickly() async throws {
        signal(SIGPIPE, SIG_IGN)
        let dir = try TempDir.make().path
        try hosts.block("vanishing", index: 43, extra: "    ServerAliveInterval 2\n    ServerAliveCountMax 2")
            .write(toFile: dir + "/config", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = ["exec", "--stdin", "-F", dir + "/config", "-H", "vanishing", "--",
                             "echo $PPID; head -c 1000000 >/dev/null; echo took-input; exec cat >/dev/null"]
        process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { _, new in new }
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let lines = PipeLines(output.fileHandleForReading.fileDescriptor)
        var frozen: [pid_t] = []
        defer {
            // Let the frozen sshd processes go and end them (never the listener); close our end of stdin.
            for pid in frozen { kill(pid, SIGCONT); kill(pid, SIGTERM) }
            try? input.fileHandleForWriting.close()
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        // Input flows while the command runs, and the pipe stays open like a program still writing.
        let writeEnd = input.fileHandleForWriting.fileDescriptor
        Thread { _ = [UInt8](repeating: 0, count: 1_000_000).withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) } }.start()

        guard let first = await lines.next(within: 30), let serving = pid_t(first.split(separator: "|").last?.trimmingCharacters(in: .whitespaces) ?? "") else {
            Issue.record("the command did not start while its input was still open: \(lines.seen)")
            return
        }
        await #expect(lines.next(within: 30)?.hasSuffix("took-input") == true, "\(lines.seen)")
        // Freeze this connection's sshd processes (the session's, and its privileged
        // parent if any) but not the host's listener: as if the host vanished.
        let listener = pid_t((try? String(contentsOfFile: hosts.directory + "/hosts/th43/pid", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        var connection: [pid_t] = []
        var pid: pid_t? = serving
        while let current = pid, current != listener, Self.command(of: current) == "sshd" {
            connection.append(current)
            pid = Self.parent(of: current)
        }
        guard !connection.isEmpty, pid == listener else {
            let chain = ([serving] + connection.dropFirst() + [pid].compactMap { $0 })
                .map { "\($0) (\(Self.command(of: $0) ?? "gone"), parent \(Self.parent(of: $0).map(String.init) ?? "?"))" }
            while await lines.next(within: 10) != nil {}
            let state = process.isRunning ? "runs" : "exited \(process.terminationStatus)"
            let stdin = fcntl(writeEnd, F_GETFD) == -1 ? "closed" : "open"
            Issue.record("\(serving) is not served by th43's sshd (pid \(listener.map(String.init) ?? "?")): \(chain.joined(separator: " <- ")); swiftfab \(state), its stdin \(stdin); output: \(lines.seen)")
            return
        }
        let start = monotonicNow()
        for pid in connection where kill(pid, SIGSTOP) == 0 { frozen.append(pid) }
        while await lines.next(within: 30) != nil {}  // until swiftfab exits and closes its output
        let elapsed = monotonicNow() - start
        guard lines.ended else {
            Issue.record("swiftfab still waits on the frozen host after \(Format.seconds(elapsed))")
            return
        }
        process.waitUntilExit()
        print("a frozen host was detected after \(Format.seconds(elapsed))")
        #expect(process.terminationStatus == 1)
        #expect(lines.seen.contains("no answer for"), "\(lines.seen)")
        #expect(lines.seen.contains("2 probes unanswered: ServerAliveInterval 2, ServerAliveCountMax 2"))
        #expect(lines.seen.contains("check that the host is up"))
        // The config allows 7 s of silence; a saturated machine notices later (17.6 s seen with
        // four builds beside the suite), but never after the minutes a TCP time-out would take.
        #expect(elapsed < 30, "took \(elapsed) s")
    }

    static func command(of pid: pid_t) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func parent(of pid: pid_t) -> pid_t? {
        // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }
}

/// Lines from a pipe, each wait bounded so a broken build fails instead of hanging.
/// Used by one test at a time; its waits run on a thread of their own.
final class PipeLines: @unchecked Sendable {
    private let fd: Int32
    private var buffer = Data()
    private(set) var seen = ""
    /// The writer closed its end (swiftfab exited).
    private(set) var ended = false

    init(_ fd: Int32) { self.fd = fd }

    /// The next line, or nil at end of output or after `seconds` without one.
    func next(within seconds: Double) async -> String? {
        await onThreadOfItsOwn { self.nextBlocking(within: seconds) }
    }

    private func nextBlocking(within seconds: Double) -> String? {
        let deadline = monotonicNow() + seconds
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer = Data(buffer[(newline + 1)...])
                return line
            }
            let remaining = deadline - monotonicNow()
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard remaining > 0, poll(&pfd, 1, Int32(remaining * 1000)) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else {
                ended = true
                return nil
            }
            buffer.append(contentsOf: chunk[0..<count])
            seen += String(decoding: chunk[0..<count], as: UTF8.self)
        }
    }
}
