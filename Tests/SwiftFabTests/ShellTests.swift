import Foundation
import Testing
@testable import SwiftFab

/// Quoting and command rendering, proven against a real /bin/sh.
@Suite struct ShellTests {
    @Test(arguments: ["", "plain", "a b", "it's", "\"double\"", "$HOME", "`id`", "$(id)", "a\nb", "*", "-n", "tab\there", "back\\slash", "ünïcødé", "'", "''", ";|&<>"])
    func quotedWordsSurviveTheShell(word: String) async throws {
        let result = try await LocalBackend().run(.raw("printf %s " + Shell.quote(word)))
        #expect(result.stdoutText == word)
    }

    @Test func aDirectoryUnderTildeIsTheRemoteUsersHome() async throws {
        let home = try #require(ProcessInfo.processInfo.environment["HOME"])
        #expect(Command.raw("pwd").within("~/my app").display == "cd ~/'my app' && pwd")
        for directory in ["~", "~/", "~/."] {
            let result = try await LocalBackend().run(Command.raw("pwd -P").within(directory))
            let resolved = URL(fileURLWithPath: home).resolvingSymlinksInPath().path
            #expect(result.stdoutText.trimmingCharacters(in: .newlines) == resolved, "\(directory): \(result.stderrText)")
        }
        // Only a leading tilde is special; anywhere else it is a plain character.
        #expect(Command.raw("pwd").within("/srv/~x").display == "cd '/srv/~x' && pwd")
    }

    @Test func fileDigestsAgreeWithSha256sum() async throws {
        let path = try TempDir.make().path + "/blob"
        var bytes = Data(count: 3 << 20 + 17)   // more than one read, not a multiple of it
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 7) }
        try bytes.write(to: URL(fileURLWithPath: path))
        let expected = try await LocalBackend().run(.raw("sha256sum \(Shell.quote(path)) | cut -c1-64")).stdoutText
        #expect(try FileDigest.sha256(path) == expected.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(throws: SwiftFabError.self) { try FileDigest.sha256(path + ".missing") }
    }

    @Test func safeWordsStayBare() {
        #expect(Shell.quote("/srv/app/releases/2026-v1.2") == "/srv/app/releases/2026-v1.2")
        #expect(Shell.quote("a b") == "'a b'")
        #expect(Shell.quote("it's") == "'it'\\''s'")
        #expect(Shell.quote("") == "''")
    }

    @Test func renderingComposesDirectoryEnvironmentAndSudo() throws {
        let command = Command("ls", "-l", "my dir").with(environment: ["B": "2", "A": "x y"]).within("/srv/app").asSudo(user: "www")
        #expect(try command.rendered() == "cd /srv/app && sudo -n -u www -- sh -c 'env '\\''A=x y'\\'' B=2 sh -c '\\''ls -l '\\''\\'\\'''\\''my dir'\\''\\'\\'''\\'''\\'''")
        #expect(throws: SwiftFabError.self) { try Command("true").with(environment: ["BAD NAME": "1"]).rendered() }
    }

    @Test func renderedCommandRunsAsWritten() async throws {
        let dir = try TempDir.make().path
        let command = Command("sh", "-c", "printf '%s|%s|%s' \"$A\" \"$B\" \"$(pwd)\"").with(environment: ["A": "it's", "B": "$HOME"]).within(dir)
        let result = try await LocalBackend().run(command)
        #expect(result.stdoutText == "it's|$HOME|\(dir)")
    }

    @Test func secretsAreRedacted() throws {
        let secret = Secret("hunter2")
        #expect("\(secret)" == "[secret]")
        #expect(String(describing: [secret]) == "[[secret]]")
        #expect(Secret.redact("password=hunter2;", [secret]) == "password=[secret];")
        let error = SwiftFabError(.authentication, host: "web1", "bad \(secret)")
        #expect(!error.description.contains("hunter2"))
    }

    @Test func markerFilterFindsMarkersSplitAcrossChunks() {
        var filter = MarkerFilter([Array("[PROMPT]".utf8), Array("pw".utf8)], replacements: [[], Array("**".utf8)])
        var output: [UInt8] = []
        var found: [Int] = []
        for chunk in ["abc[PRO", "MPT]def p", "w end [P", "x"] {
            let step = filter.feed(Array(chunk.utf8))
            output += step.output
            found += step.found
        }
        output += filter.flush()
        #expect(String(decoding: output, as: UTF8.self) == "abcdef ** end [Px")
        #expect(found == [0, 1])
    }

    @Test func lineSplitterHoldsPartialLines() {
        var splitter = LineSplitter()
        #expect(splitter.feed(Data("one\ntw".utf8)) == ["one"])
        #expect(splitter.feed(Data("o\r\nthree".utf8)) == ["two"])
        #expect(splitter.flush() == "three")
        #expect(splitter.flush() == nil)
    }

    @Test(.sandbox) func keyFilesAreInspectedWithoutDecrypting() throws {
        var hosts: TestHosts { .shared }
        #expect(KeyFile.inspect(hosts.clientKey).map { ($0.type, $0.encrypted) } ?? (nil, true) == ("ssh-ed25519", false))
        #expect(KeyFile.inspect(hosts.passphraseKey)?.encrypted == true)
        #expect(KeyFile.inspect(hosts.passphraseKey)?.type == "ssh-ed25519")
        #expect(KeyFile.inspect(hosts.rsaKey)?.type == "ssh-rsa")
        #expect(KeyFile.inspect("/nonexistent") == nil)
    }
}

/// The local backend behaves like an SSH connection.
@Suite struct LocalBackendTests {
    let local = LocalBackend()

    @Test func exitStatusSignalsAndStreams() async throws {
        let result = try await local.run(.raw("echo out; echo err >&2; exit 7"))
        #expect(result.exitStatus == 7 && result.stdoutText == "out\n" && result.stderrText == "err\n")
        let killed = try await local.run(.raw("kill -TERM $$"))
        #expect(killed.exitSignal == "TERM")
    }

    @Test func bigStreamsAndStdin() async throws {
        let input = Data(repeating: 42, count: 3_000_000)
        let echoed = try await local.run(Command("cat"), ExecOptions(stdin: input))
        #expect(echoed.stdout == input)
        let both = try await local.run(.raw("head -c 5000000 /dev/zero & head -c 5000000 /dev/zero >&2; wait"))
        #expect(both.stdout.count == 5_000_000 && both.stderr.count == 5_000_000)
    }

    @Test func timeoutKillsTheProcessGroup() async throws {
        let marker = "32.\(Int.random(in: 1000...9999))"
        let result = try await local.run(.raw("sleep \(marker) & sleep \(marker)"), ExecOptions(timeout: 0.5))
        #expect(result.timedOut)
        #expect(result.duration < 20)  // far below the 32 s the command asks for
        try await waitFor("the process group to end") {
            try await local.run(.raw("pgrep -f '[s]leep \(marker)' || true")).stdoutText.isEmpty
        }
    }

    /// A pipe this process holds open without close-on-exec (Foundation's
    /// are such, and a test runs many at once) must not reach a local command:
    /// a long-lived one would keep that pipe's reader waiting for it.
    @Test func aLocalCommandGetsOnlyItsOwnThreeDescriptors() async throws {
        let pipe = Pipe()
        let held = [pipe.fileHandleForReading.fileDescriptor, pipe.fileHandleForWriting.fileDescriptor]
        #expect(held.allSatisfy { fcntl($0, F_GETFD) & FD_CLOEXEC == 0 })
        let listed = try await local.run(.raw("ls /proc/$$/fd")).stdoutText
        let open = listed.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(open.sorted() == [0, 1, 2], "the shell had \(listed)")
        #expect(!held.contains { open.contains($0) })
    }

    @Test func copiesAreAtomicPerFile() async throws {
        let dir = try TempDir.make().path
        try FileManager.default.createDirectory(atPath: dir + "/tree/sub", withIntermediateDirectories: true)
        try "a".write(toFile: dir + "/tree/a", atomically: true, encoding: .utf8)
        try "b".write(toFile: dir + "/tree/sub/b", atomically: true, encoding: .utf8)
        chmod(dir + "/tree/sub/b", 0o600)
        let summary = try await local.upload(dir + "/tree", to: dir + "/copy", TransferOptions())
        #expect(summary.files == 2)
        #expect(try String(contentsOfFile: dir + "/copy/sub/b", encoding: .utf8) == "b")
        #expect((try FileManager.default.attributesOfItem(atPath: dir + "/copy/sub/b")[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        await #expect(throws: SwiftFabError.self) { _ = try await local.upload(dir + "/missing", to: dir + "/x", TransferOptions()) }
    }
}
