import Crypto
import Foundation
import Testing
@testable import SwiftFab

/// SFTP round trips, checked by sha256 on both ends, with modes and atomicity.
@Suite(.sandbox) struct TransferTests {
    var hosts: TestHosts { .shared }

    static func sha256(_ path: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hasher.update(data: data) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func writeRandom(_ path: String, size: Int) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var generator = SystemRandomNumberGenerator()
        var left = size
        while left > 0 {
            let count = min(left, 1 << 20)
            try handle.write(contentsOf: Data((0..<count / 8 + 1).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64, Array.init) }.prefix(count)))
            left -= count
        }
    }

    func remoteSHA(_ connection: SSHConnection, _ path: String) async throws -> String {
        let result = try await connection.run(Command("sha256sum", path))
        return String(result.stdoutText.prefix(64))
    }

    @Test(arguments: [0, 1, 100_000_000])
    func fileRoundTrip(size: Int) async throws {
        try await hosts.withConnection("th7") { connection in
            let dir = try TempDir.make().path
            let source = dir + "/source.bin"
            try Self.writeRandom(source, size: size)
            let remote = "/srv/roundtrip-\(size).bin"
            let progress = ProgressLog()
            let up = try await connection.upload(source, to: remote, TransferOptions(onProgress: { progress.add($0) }))
            #expect(up.bytes == Int64(size) && up.files == 1 && up.destination == remote)
            #expect(try await remoteSHA(connection, remote) == Self.sha256(source))
            if size > 0 { #expect(progress.last?.bytesDone == Int64(size)) }
            let back = dir + "/back.bin"
            let down = try await connection.download(remote, to: back, TransferOptions())
            #expect(down.bytes == Int64(size))
            #expect(try Self.sha256(back) == Self.sha256(source))
            // Nothing temporary is left on either side (this case's own files: the other sizes run meanwhile).
            let leftovers = try await connection.run(.raw("find /srv -name '.roundtrip-\(size).bin.swiftfab-*' | wc -l"))
            #expect(leftovers.stdoutText == "0\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["back.bin", "source.bin"])
        }
    }

    @Test func directoryTreeWithModes() async throws {
        try await hosts.withConnection("th8") { connection in
            let dir = try TempDir.make().path
            let tree = dir + "/site"
            let layout: [(String, UInt16)] = [("index.html", 0o644), ("bin/run.sh", 0o755), ("conf/secret.env", 0o600), ("deep/a/b/c.txt", 0o640)]
            for (path, mode) in layout {
                let full = tree + "/" + path
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Self.writeRandom(full, size: 1000 + path.count)
                chmod(full, mode_t(mode))
            }
            chmod(tree + "/conf", 0o700)
            let summary = try await connection.upload(tree, to: "/srv/", TransferOptions())
            #expect(summary.files == layout.count)
            #expect(summary.destination == "/srv/site")
            for (path, mode) in layout {
                let stat = try await connection.run(Command("stat", "-c", "%a", "/srv/site/" + path))
                #expect(stat.stdoutText == String(mode, radix: 8) + "\n", "mode of \(path)")
                #expect(try await remoteSHA(connection, "/srv/site/" + path) == Self.sha256(tree + "/" + path))
            }
            #expect(try await connection.run(Command("stat", "-c", "%a", "/srv/site/conf")).stdoutText == "700\n")

            // Download the tree back and compare every file and mode.
            let back = dir + "/back"
            _ = try await connection.download("/srv/site", to: back, TransferOptions())
            for (path, mode) in layout {
                #expect(try Self.sha256(back + "/" + path) == Self.sha256(tree + "/" + path))
                let attributes = try FileManager.default.attributesOfItem(atPath: back + "/" + path)
                #expect((attributes[.posixPermissions] as? NSNumber)?.uint16Value == mode, "local mode of \(path)")
            }
        }
    }

    @Test func overwriteIsAtomicAndForcedModeApplies() async throws {
        try await hosts.withConnection("th9") { connection in
            let dir = try TempDir.make().path
            try "old".write(toFile: dir + "/v1", atomically: true, encoding: .utf8)
            try "new contents".write(toFile: dir + "/v2", atomically: true, encoding: .utf8)
            _ = try await connection.upload(dir + "/v1", to: "/srv/app.env", TransferOptions())
            let inode = try await connection.run(Command("stat", "-c", "%i", "/srv/app.env")).stdoutText
            _ = try await connection.upload(dir + "/v2", to: "/srv/app.env", TransferOptions(mode: 0o600))
            #expect(try await connection.run(Command("cat", "/srv/app.env")).stdoutText == "new contents")
            #expect(try await connection.run(Command("stat", "-c", "%a", "/srv/app.env")).stdoutText == "600\n")
            // A rename put a new file in place; the old one was never rewritten in place.
            #expect(try await connection.run(Command("stat", "-c", "%i", "/srv/app.env")).stdoutText != inode)
        }
    }

    @Test func failedUploadLeavesNothingBehind() async throws {
        try await hosts.withConnection("deploy-th9") { connection in
            let dir = try TempDir.make().path
            try "data".write(toFile: dir + "/f", atomically: true, encoding: .utf8)
            do {
                _ = try await connection.upload(dir + "/f", to: "/etc/swiftfab-denied", TransferOptions())
                Issue.record("deploy could write to /etc")
            } catch let error as SwiftFabError {
                #expect(error.kind == .transfer)
                #expect(error.description.contains("permission denied"))
                #expect(error.host == "deploy-th9")
            }
            do {
                _ = try await connection.download("/srv/does-not-exist", to: dir + "/x", TransferOptions())
                Issue.record("downloaded a missing file")
            } catch let error as SwiftFabError {
                #expect(error.description.contains("no such file or directory"))
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
        }
    }

    @Test func fullDiskFailsCleanlyAndKeepsTheOldFile() async throws {
        try await hosts.withConnection("th10") { connection in
            let setup = try await connection.run(.raw("mkdir -p /srv/small && (mountpoint -q /srv/small || mount -t tmpfs -o size=1m tmpfs /srv/small) && echo keep > /srv/small/data"))
            #expect(setup.succeeded, "\(setup.stderrText)")
            let dir = try TempDir.make().path
            try Self.writeRandom(dir + "/big", size: 3_000_000)
            await #expect(throws: SwiftFabError.self) {
                _ = try await connection.upload(dir + "/big", to: "/srv/small/data", TransferOptions())
            }
            #expect(try await connection.run(Command("cat", "/srv/small/data")).stdoutText == "keep\n")
            #expect(try await connection.run(.raw("ls -A /srv/small")).stdoutText == "data\n")
        }
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [TransferProgress] = []
    func add(_ progress: TransferProgress) { lock.lock(); entries.append(progress); lock.unlock() }
    var last: TransferProgress? { lock.lock(); defer { lock.unlock() }; return entries.last }
}
