import Foundation
import Testing
@testable import SwiftFab

/// A download must stay inside its destination whatever the server lists:
/// hostile names, special mode bits, links on either side.
@Suite struct DownloadSafetyTests {
    /// A listed name, shown escaped in the test log too.
    struct Listed: Sendable, CustomTestStringConvertible {
        let name: String
        var testDescription: String { RemoteName.quoted(name) }
    }

    static let unsafeNames = ["../../evil", "../evil", "a/b", "/etc", ".", "..", "bad\0name", ""].map(Listed.init)

    @Test(arguments: unsafeNames, [RemoteAttributes.Kind.file, .directory])
    func unsafeListedNamesStopTheDownload(listed: Listed, kind: RemoteAttributes.Kind) throws {
        let name = listed.name
        let parent = try TempDir.make().path
        let destination = parent + "/dest"
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
        let server = MemoryServer(root: "/srv/t")
        server.file("/srv/t/good.txt", "fine")
        server.directory("/srv/t/sub")
        server.file("/srv/t/sub/early.txt", "also fine")
        server.hostileEntry(in: "/srv/t/sub", named: name, kind: kind)
        let before = try Self.snapshot(parent)

        let error = try #require(throws: SwiftFabError.self) {
            try TreeDownload(reader: server, options: TransferOptions()).run("/srv/t", to: destination)
        }
        #expect(error.kind == .transfer)
        #expect(error.host == "mem1")
        #expect(error.message.contains("unsafe file name \(RemoteName.quoted(name)) in \"/srv/t/sub\""), "\(error)")
        #expect(error.message.contains("nothing was written outside \(destination)"))
        #expect(error.hint != nil)
        #expect(!error.description.contains("\0"))
        // Nothing at all was written: not beside the destination, not in it, no temporary files.
        #expect(try Self.snapshot(parent) == before)
    }

    @Test func unsafeNamesAreShownEscaped() {
        #expect(RemoteName.quoted("bad\0name") == #""bad\0name""#)
        #expect(RemoteName.quoted("a\u{1B}[2J\"b\u{202E}") == #""a\u{1B}[2J\"b\u{202E}""#)
        #expect(RemoteName.quoted("ünï cødé") == "\"ünï cødé\"")
    }

    @Test func serverModesLoseSpecialBitsAndPassThroughTheUmask() throws {
        let server = MemoryServer(root: "/srv/t", mode: 0o1777)
        let modes: [(String, UInt32)] = [("setuid", 0o4755), ("setgid", 0o2777), ("sticky", 0o1777), ("open", 0o777), ("private", 0o750)]
        for (name, mode) in modes {
            server.file("/srv/t/\(name).txt", name, mode: mode)
            server.directory("/srv/t/\(name)", mode: mode)
            server.file("/srv/t/\(name)/inside.txt", "inside")
        }

        // The process umask as it is (never changed here: other tests run beside this one).
        let mask = UInt32(LocalTree.currentUmask())
        #expect(mask & 0o002 != 0, "the tests expect a umask that takes world-write away")
        let withProcessUmask = try TempDir.make().path
        _ = try TreeDownload(reader: server, options: TransferOptions()).run("/srv/t", to: withProcessUmask)
        for (name, mode) in modes {
            let expected: UInt32 = mode & 0o777 & ~mask
            #expect(try Self.mode(withProcessUmask + "/t/\(name).txt") == expected, "file \(name)")
            #expect(try Self.mode(withProcessUmask + "/t/\(name)") == expected, "directory \(name)")
            #expect(try Self.mode(withProcessUmask + "/t/\(name)/inside.txt") == 0o644 & ~mask)
        }
        #expect(try Self.mode(withProcessUmask + "/t") == 0o777 & ~mask)

        // World-write only where the umask allows it; the special bits go whatever it is.
        let cases: [(umask: mode_t, open: UInt32, privateMode: UInt32)] = [(0, 0o777, 0o750), (0o077, 0o700, 0o700)]
        for (umask, open, privateMode) in cases {
            let destination = try TempDir.make().path
            _ = try TreeDownload(reader: server, options: TransferOptions(), umask: umask).run("/srv/t", to: destination)
            #expect(try Self.mode(destination + "/t/setuid.txt") == 0o755 & ~UInt32(umask))
            #expect(try Self.mode(destination + "/t/setgid") == open)
            #expect(try Self.mode(destination + "/t/sticky.txt") == open)
            #expect(try Self.mode(destination + "/t/private") == privateMode)
            #expect(try Self.mode(destination + "/t") == open)
        }

        // A forced mode wins over the server's, but keeps no special bits either.
        let forced = try TempDir.make().path
        _ = try TreeDownload(reader: server, options: TransferOptions(mode: 0o6775)).run("/srv/t", to: forced)
        #expect(try Self.mode(forced + "/t/private.txt") == 0o775)
        #expect(try Self.mode(forced + "/t/setuid.txt") == 0o775)
        #expect(try Self.mode(forced + "/t/setuid") == 0o755)
    }

    @Test func linksPlantedInTheDestinationAreNeverFollowed() throws {
        let outside = try TempDir.make().path
        try "precious".write(toFile: outside + "/target.txt", atomically: false, encoding: .utf8)
        let server = MemoryServer(root: "/srv/t")
        server.file("/srv/t/top.txt", "top")
        server.directory("/srv/t/sub")
        server.file("/srv/t/sub/x.txt", "x")

        // A link where the tree has a directory: refused, and nothing lands behind it.
        for link in ["t/sub", "t"] {
            let destination = try TempDir.make().path
            try FileManager.default.createDirectory(atPath: destination + "/t", withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: destination + "/" + link)
            try FileManager.default.createSymbolicLink(atPath: destination + "/" + link, withDestinationPath: outside)
            let error = try #require(throws: SwiftFabError.self) {
                try TreeDownload(reader: server, options: TransferOptions()).run("/srv/t", to: destination)
            }
            #expect(error.message.contains("\(destination)/\(link): it is a symbolic link"), "\(error)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["target.txt"])
            #expect(try Self.snapshot(destination).allSatisfy { !$0.contains(".swiftfab-") })
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: destination + "/" + link) == outside)
        }

        // A link where the tree has a file is replaced itself; what it pointed to is untouched.
        let destination = try TempDir.make().path
        try FileManager.default.createDirectory(atPath: destination + "/t", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: destination + "/t/top.txt", withDestinationPath: outside + "/target.txt")
        _ = try TreeDownload(reader: server, options: TransferOptions()).run("/srv/t", to: destination)
        #expect(try String(contentsOfFile: outside + "/target.txt", encoding: .utf8) == "precious")
        #expect(try Self.snapshot(destination + "/t").contains("f 644 top.txt"))
        #expect(try String(contentsOfFile: destination + "/t/top.txt", encoding: .utf8) == "top")

        // The destination the user names may be a link: following that one is their choice.
        let real = try TempDir.make().path
        let named = try TempDir.make().path + "/named"
        try FileManager.default.createSymbolicLink(atPath: named, withDestinationPath: real)
        let summary = try TreeDownload(reader: server, options: TransferOptions()).run("/srv/t", to: named)
        #expect(summary.destination == named + "/t")
        #expect(try String(contentsOfFile: real + "/t/sub/x.txt", encoding: .utf8) == "x")
    }

    @Test func aFailedDownloadRemovesWhatItStagedAndKeepsTheOldFiles() throws {
        let server = MemoryServer(root: "/srv/t")
        server.file("/srv/t/a.txt", "new a")
        server.directory("/srv/t/sub")
        server.file("/srv/t/sub/b.txt", String(repeating: "b", count: 1000))
        server.failing = ["/srv/t/sub/b.txt"]
        let destination = try TempDir.make().path
        try FileManager.default.createDirectory(atPath: destination + "/t", withIntermediateDirectories: true)
        try "old a".write(toFile: destination + "/t/a.txt", atomically: false, encoding: .utf8)

        #expect(throws: SwiftFabError.self) {
            try TreeDownload(reader: server, options: TransferOptions()).run("/srv/t", to: destination)
        }
        #expect(try String(contentsOfFile: destination + "/t/a.txt", encoding: .utf8) == "old a")
        #expect(try Self.snapshot(destination).filter { $0.hasPrefix("f") }.map { $0.split(separator: " ").last! } == ["t/a.txt"])
    }

    /// A real server: links in the tree are listed and skipped, never followed.
    @Test(.sandbox) func serverSideLinksAreSkippedAndReported() async throws {
        try await TestHosts.shared.withConnection("th41") { connection in
            let setup = try await connection.run(.raw("""
                rm -rf /srv/dl && mkdir -p /srv/dl/tree/sub /srv/dl/outside && echo secret > /srv/dl/outside/secret.txt \
                && echo hello > /srv/dl/tree/a.txt && head -c 300000 /dev/urandom > /srv/dl/tree/sub/data.bin \
                && ln -s /srv/dl/outside /srv/dl/tree/out && ln -s /srv/dl/outside/secret.txt /srv/dl/tree/secret.txt \
                && ln -s .. /srv/dl/tree/sub/loop && mkfifo /srv/dl/tree/pipe && ln -s /srv/dl/tree /srv/dl/named-link
                """))
            #expect(setup.succeeded, "\(setup.stderrText)")
            let local = try TempDir.make().path

            let summary = try await connection.download("/srv/dl/tree", to: local, TransferOptions())
            #expect(summary.files == 2)
            #expect(summary.skipped == ["/srv/dl/tree/out", "/srv/dl/tree/pipe", "/srv/dl/tree/secret.txt", "/srv/dl/tree/sub/loop"])
            #expect(try Self.snapshot(local).map { String($0.split(separator: " ").last!) } == ["tree", "tree/a.txt", "tree/sub", "tree/sub/data.bin"])
            #expect(try String(contentsOfFile: local + "/tree/a.txt", encoding: .utf8) == "hello\n")
            let remoteSum = try await connection.run(Command("sha256sum", "/srv/dl/tree/sub/data.bin")).stdoutText.prefix(64)
            #expect(try TransferTests.sha256(local + "/tree/sub/data.bin") == String(remoteSum))
            let line = AdHoc.describe(summary, verb: "downloaded")
            #expect(line.hasSuffix("; skipped 4 symlinks or special files (not followed): /srv/dl/tree/out, /srv/dl/tree/pipe, "
                                   + "/srv/dl/tree/secret.txt, /srv/dl/tree/sub/loop"), "\(line)")

            // The path the user names may be a link; that one is followed.
            let viaLink = try await connection.download("/srv/dl/named-link", to: local + "/again", TransferOptions())
            #expect(viaLink.files == 2)
            #expect(try String(contentsOfFile: local + "/again/a.txt", encoding: .utf8) == "hello\n")
        }
    }

    // MARK: - Helpers

    /// Every entry below `root` as "type mode path", without following links.
    static func snapshot(_ root: String, _ relative: String = "") throws -> [String] {
        var lines: [String] = []
        let directory = relative.isEmpty ? root : root + "/" + relative
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            let path = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(root + "/" + path, &info) == 0 else { throw SwiftFabError(.local, "cannot lstat \(path)") }
            let type = switch info.st_mode & S_IFMT {
            case S_IFDIR: "d"
            case S_IFLNK: "l"
            case S_IFREG: "f"
            default: "?"
            }
            lines.append("\(type) \(String(info.st_mode & 0o7777, radix: 8)) \(path)")
            if type == "d" { lines += try snapshot(root, path) }
        }
        return lines
    }

    static func mode(_ path: String) throws -> UInt32 {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SwiftFabError(.local, "cannot lstat \(path)") }
        return UInt32(info.st_mode & 0o7777)
    }
}

/// A server answering from memory, as hostile as a test makes it.
final class MemoryServer: RemoteTreeReader, @unchecked Sendable {
    let hostLabel = "mem1"
    /// Files whose reading breaks half-way.
    var failing: Set<String> = []
    private var known: [String: RemoteAttributes] = [:]
    private var listings: [String: [RemoteEntry]] = [:]
    private var contents: [String: [UInt8]] = [:]

    init(root: String, mode: UInt32 = 0o755) {
        known[root] = RemoteAttributes(kind: .directory, permissions: mode, size: 0)
        listings[root] = []
    }

    func directory(_ path: String, mode: UInt32 = 0o755) {
        add(path, RemoteAttributes(kind: .directory, permissions: mode, size: 0))
        listings[path] = []
    }

    func file(_ path: String, _ text: String, mode: UInt32 = 0o644) {
        contents[path] = Array(text.utf8)
        add(path, RemoteAttributes(kind: .file, permissions: mode, size: Int64(text.utf8.count)))
    }

    /// A listing entry under any name at all; as a directory it holds a file of its own.
    func hostileEntry(in directory: String, named name: String, kind: RemoteAttributes.Kind) {
        let path = directory + "/" + name
        listings[directory, default: []].append(RemoteEntry(name: name, attributes: RemoteAttributes(kind: kind, permissions: 0o644, size: 6)))
        if kind == .directory {
            listings[path] = [RemoteEntry(name: "authorized_keys", attributes: RemoteAttributes(kind: .file, permissions: 0o644, size: 6))]
            contents[path + "/authorized_keys"] = Array("pwned\n".utf8)
        } else {
            contents[path] = Array("pwned\n".utf8)
        }
    }

    private func add(_ path: String, _ attributes: RemoteAttributes) {
        known[path] = attributes
        let parent = (path as NSString).deletingLastPathComponent
        listings[parent, default: []].append(RemoteEntry(name: (path as NSString).lastPathComponent, attributes: attributes))
    }

    func attributes(of path: String) throws -> RemoteAttributes? { known[path] }

    func entries(of directory: String) throws -> [RemoteEntry] {
        guard let entries = listings[directory] else { throw SwiftFabError(.transfer, host: hostLabel, "cannot list \(directory)") }
        return entries
    }

    func copyFile(_ path: String, into fd: Int32, progress: (Int64) -> Void) throws -> Int64 {
        guard let bytes = contents[path] else { throw SwiftFabError(.transfer, host: hostLabel, "cannot open \(path)") }
        let count = failing.contains(path) ? bytes.count / 2 : bytes.count
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, count) }) == count else {
            throw SwiftFabError(.local, "cannot write the local file")
        }
        progress(Int64(count))
        if failing.contains(path) { throw SwiftFabError(.transfer, host: hostLabel, "cannot read \(path): the connection dropped") }
        return Int64(count)
    }
}
