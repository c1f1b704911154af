import Foundation
import Testing
@testable import SwiftFab

/// Output and input of any size cost bounded memory: results keep the end of
/// each stream, long lines come out in pieces, stdin is read as it is taken.
@Suite struct OutputBoundsTests {
    let local = LocalBackend()

    @Test func resultKeepsTheEndOfEachStreamAndSaysWhatWasDropped() async throws {
        let whole = Data((1...400_000).map { "\($0)\n" }.joined().utf8)
        let counter = ByteCounter()
        var options = ExecOptions(onOutput: { counter.add($0) })
        options.keepOutput = 1 << 20
        let result = try await local.run(.raw("seq 1 400000; head -c 3000000 /dev/zero | tr '\\0' e >&2"), options)
        #expect(result.stdout == whole.suffix(1 << 20))
        #expect(result.stdoutDroppedBytes == Int64(whole.count - (1 << 20)) && result.stdoutTruncated)
        #expect(result.stderr.count == 1 << 20 && result.stderrTruncated)
        // Everything was still streamed.
        #expect(counter.totals == [.stdout: whole.count, .stderr: 3_000_000])
        let small = try await local.run(.raw("echo hi"))
        #expect(small.stdoutText == "hi\n" && !small.stdoutTruncated && small.stdoutDroppedBytes == 0)
    }

    @Test func tailWrapsAroundWhateverTheChunkSizes() {
        var tail = OutputTail(limit: 10)
        var all: [UInt8] = []
        for (index, size) in [3, 4, 9, 1, 25, 0, 7, 10, 2].enumerated() {
            let chunk = (0..<size).map { UInt8(truncatingIfNeeded: index * 31 + $0) }
            all += chunk
            tail.append(chunk)
            #expect(tail.data == Data(all.suffix(10)))
            #expect(tail.dropped == Int64(max(0, all.count - 10)))
        }
        var none = OutputTail(limit: 0)
        none.append([1, 2, 3])
        #expect(none.data.isEmpty && none.dropped == 3)
    }

    @Test func endlessLineComesOutInPieces() {
        var splitter = LineSplitter(maxLine: 8)
        #expect(splitter.feed(Data("abcdefghij".utf8)) == ["abcdefgh"])
        #expect(splitter.feed(Data("klmnopqrstu\nshort\n".utf8)) == ["ijklmnop", "qrstu", "short"])
        // A piece never ends inside a UTF-8 character.
        var unicode = LineSplitter(maxLine: 8)
        let pieces = unicode.feed(Data(String(repeating: "é", count: 20).utf8)) + [unicode.flush()].compactMap { $0 }
        #expect(pieces.joined() == String(repeating: "é", count: 20))
        #expect(pieces.allSatisfy { !$0.contains("\u{FFFD}") && $0.utf8.count <= 9 })
        // Memory stays bounded: a megabyte without a newline holds at most a piece.
        var big = LineSplitter()
        let lines = big.feed(Data(repeating: UInt8(ascii: "x"), count: 1 << 20))
        #expect(lines.count == (1 << 20) / LineSplitter.defaultMaxLine - 1)
        #expect(lines.allSatisfy { $0.utf8.count == LineSplitter.defaultMaxLine })
    }

    @Test func piecesNeverCutASecretSoRedactionStillWorks() {
        let secret = Secret("s3cr3t-token-value")
        let sink = EventLog()
        let emitter = LineEmitter(host: "h", sink: sink, secrets: [secret], silent: false)
        // The secret straddles every 64 KiB boundary a naive cut would make.
        let unit = String(repeating: "x", count: LineSplitter.defaultMaxLine - 7) + secret.reveal()
        let text = String(repeating: unit, count: 4)
        for start in stride(from: 0, to: text.utf8.count, by: 1000) {
            let bytes = Data(text.utf8.dropFirst(start).prefix(1000))
            emitter.feed(OutputChunk(stream: .stdout, bytes: bytes))
        }
        emitter.finish()
        let lines = sink.all.compactMap { event -> String? in
            if case .output(_, _, let line, _) = event { return line } else { return nil }
        }
        #expect(lines.count > 4)
        #expect(lines.allSatisfy { $0.utf8.count <= LineSplitter.defaultMaxLine + secret.reveal().utf8.count })
        #expect(!lines.joined().contains("s3cr3t") && !lines.joined().contains("token-value"))
        #expect(lines.joined().components(separatedBy: "[secret]").count == 5)
    }

    @Test func stdinIsReadFromAPipeAsTheCommandTakesIt() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        // The writer blocks on the 64 KiB pipe unless the command reads while we write.
        let total = 5_000_000
        let writeEnd = fds[1]
        let writer = Thread {
            let chunk = [UInt8](repeating: 7, count: 100_000)
            for _ in 0..<(total / chunk.count) { _ = chunk.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) } }
            close(writeEnd)
        }
        writer.start()
        var options = ExecOptions(stdin: Data("head\n".utf8))
        options.stdinSource = .stream(fds[0])
        let result = try await local.run(.raw("IFS= read -r line; echo \"$line\"; wc -c"), options)
        close(fds[0])
        #expect(result.stdoutText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } == ["head", "\(total)"])
    }

    @Test func spooledInputReachesEveryRunWhole() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        let input = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let writeEnd = fds[1]
        let writer = Thread {
            _ = input.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            close(writeEnd)
        }
        writer.start()
        let spool = try StdinSpool(reading: fds[0])
        close(fds[0])
        var shared = ExecOptions()
        shared.stdinSource = spool.source
        let options = shared
        async let first = local.run(Command("cat"), options)
        async let second = local.run(Command("cat"), options)
        #expect(try await first.stdout == input)
        #expect(try await second.stdout == input)
        // The copy is private and already unlinked: nothing is left in the temporary directory.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
        #expect(!leftovers.contains { $0.hasPrefix("swiftfab-stdin-") })
        #expect(fcntl(spool.source.fd, F_GETFD) >= 0)
    }
}
