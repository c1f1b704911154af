import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// Files swiftfab leaves on the operator's machine: private from their
/// first byte, never written through a planted symlink, removed when done;
/// and a Deployfile cache no other user can slip a program into.
@Suite(.serialized) struct LocalFilesTests {
    /// The permission bits of `path` itself (not of a symlink's target).
    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    // MARK: the utility

    @Test func aPrivateFileIsOwnerOnlyNewAndNeverWrittenThroughASymlink() throws {
        let dir = try TempDir.make().path
        let handle = try PrivateFile.create(dir + "/secret")
        try handle.write(contentsOf: Data("s3cret".utf8))
        try handle.close()
        #expect(Self.mode(dir + "/secret") == 0o600)

        // Never an existing file, never through a symlink, dangling or not.
        #expect(throws: SwiftFabError.self) { try PrivateFile.write(Data("other".utf8), to: dir + "/secret") }
        symlink(dir + "/secret", dir + "/to-secret")
        symlink(dir + "/elsewhere", dir + "/dangling")
        #expect(throws: SwiftFabError.self) { try PrivateFile.write(Data("other".utf8), to: dir + "/to-secret") }
        #expect(throws: SwiftFabError.self) { try PrivateFile.create(dir + "/dangling") }
        #expect(try String(contentsOfFile: dir + "/secret", encoding: .utf8) == "s3cret")
        #expect(!FileManager.default.fileExists(atPath: dir + "/elsewhere"))

        // Folders: a new temporary one 0700 whatever the umask; a named one created or narrowed to 0700.
        let folder = try PrivateFile.makeTemporaryDirectory(prefix: "t-", in: dir)
        #expect(folder.hasPrefix(dir + "/t-") && Self.mode(folder) == 0o700)
        TemporaryPaths.remove(folder)
        try PrivateFile.makeDirectory(dir + "/a/b/logs")
        #expect(Self.mode(dir + "/a/b/logs") == 0o700)
        chmod(dir + "/a/b/logs", 0o755)
        try PrivateFile.makeDirectory(dir + "/a/b/logs")
        #expect(Self.mode(dir + "/a/b/logs") == 0o700)
    }

    @Test func temporaryPathsGoWhenTheirOwnerIsDoneOrAllAtOnce() throws {
        let dir = try TempDir.make().path
        // The process-wide set: a folder made there is registered, and its owner removes it.
        let folder = try PrivateFile.makeTemporaryDirectory()
        try PrivateFile.write(Data("secret".utf8), to: folder + "/env")
        #expect(TemporaryPaths.registered.contains(folder))
        TemporaryPaths.remove(folder)
        #expect(!FileManager.default.fileExists(atPath: folder) && !TemporaryPaths.registered.contains(folder))

        // removeAll, on a set of its own (the process-wide one holds other tests' files).
        let registry = TemporaryPaths.Registry()
        let file = dir + "/single", nested = dir + "/nested"
        try PrivateFile.write(Data("x".utf8), to: file)
        try FileManager.default.createDirectory(atPath: nested + "/deeper", withIntermediateDirectories: true)
        symlink(dir + "/kept", nested + "/link-out")
        try "kept".write(toFile: dir + "/kept", atomically: true, encoding: .utf8)
        registry.register(file)
        registry.register(nested)
        registry.removeAll()
        #expect(registry.paths.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: file) && !FileManager.default.fileExists(atPath: nested))
        #expect(FileManager.default.fileExists(atPath: dir + "/kept"))  // a link is removed, not what it points to
        registry.removeAll()  // twice is fine
    }

    // MARK: run log and release archive

    @Test func theRunLogAndItsFolderArePrivateWhateverTheUmask() throws {
        let project = try TempDir.make().path
        let logs = project + "/.swiftfab/logs"
        // A .gitignore planted as a symlink is not written through.
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: logs + "/.gitignore", withDestinationPath: project + "/planted")
        let log = LogFileSink(directory: logs, task: "deploy")
        log.emit(.output(host: "h", stream: .stdout, line: "hello"))
        #expect(Self.mode(log.path) == 0o600)
        #expect(Self.mode(logs) == 0o700)  // an existing folder is narrowed too
        #expect(!FileManager.default.fileExists(atPath: project + "/planted"))

        let fresh = try TempDir.make().path + "/.swiftfab/logs"
        let second = LogFileSink(directory: fresh, task: "deploy")
        #expect(Self.mode(second.path) == 0o600)
        #expect(Self.mode(fresh) == 0o700)
        #expect(try String(contentsOfFile: fresh + "/.gitignore", encoding: .utf8) == "*\n")
    }

    /// A command that prints without end must not fill the disk through the
    /// log: its output is kept up to the limit, swiftfab's own lines always.
    @Test func theRunLogKeepsHostsOutputUpToItsLimit() throws {
        let logs = try TempDir.make().path + "/.swiftfab/logs"
        let log = LogFileSink(directory: logs, task: "flood", outputLimit: 1 << 20)
        let line = String(repeating: "y", count: 1024)
        for _ in 0..<4096 { log.emit(.output(host: "h", stream: .stdout, line: line)) }  // 4 MiB
        log.emit(.hostFinished(task: "flood", host: "h", status: "failed", ok: false, duration: 1, message: "stopped"))
        let text = try String(contentsOfFile: log.path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        let kept = lines.filter { $0.contains(line) }.count
        #expect(kept == 1024)  // exactly the first MiB
        #expect(lines.filter { $0.contains("beyond 1 MiB is not in this log") }.count == 1)
        #expect(lines.last?.contains("stopped") == true)
    }

    @Test func theReleaseArchiveIsPrivateAndNeverWrittenThroughASymlink() async throws {
        let repository = try await GitRepository(discoveringFrom: try GitTests.makeRepository())
        let work = try TempDir.make().path
        let archive = try repository.archive("HEAD", to: work + "/release.tar")
        #expect(Self.mode(archive.path) == 0o600)
        #expect(archive.files == 8)

        try "keep me\n".write(toFile: work + "/victim", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: work + "/planted.tar", withDestinationPath: work + "/victim")
        #expect(throws: SwiftFabError.self) { try repository.archive("HEAD", to: work + "/planted.tar") }
        #expect(try String(contentsOfFile: work + "/victim", encoding: .utf8) == "keep me\n")
    }

    /// Runs every command successfully (or fails the unpack) and looks at the
    /// local archive while it is being uploaded.
    final class UploadInspector: Backend, @unchecked Sendable {
        let host = "inspector"
        let failUnpack: Bool, failUpload: Bool
        private let lock = NSLock()
        private var seen: [(file: String, fileMode: mode_t?, folderMode: mode_t?)] = []

        init(failUnpack: Bool = false, failUpload: Bool = false) {
            self.failUnpack = failUnpack
            self.failUpload = failUpload
        }

        var uploads: [(file: String, fileMode: mode_t?, folderMode: mode_t?)] { lock.withLock { seen } }

        func run(_ command: Command, _ options: ExecOptions) async throws -> CommandResult {
            let text = try command.rendered()
            return CommandResult(exitStatus: failUnpack && text.contains("tar -xf") ? 1 : 0)
        }

        func upload(_ local: String, to remote: String, _ options: TransferOptions) async throws -> TransferSummary {
            let folder = URL(fileURLWithPath: local).deletingLastPathComponent().path
            lock.withLock { seen.append((local, LocalFilesTests.mode(local), LocalFilesTests.mode(folder))) }
            if failUpload { throw SwiftFabError(.transfer, "connection lost") }
            return TransferSummary(files: 1, bytes: 0, duration: 0, destination: remote)
        }

        func download(_ remote: String, to local: String, _ options: TransferOptions) async throws -> TransferSummary {
            throw SwiftFabError(.transfer, "not here")
        }

        func close() async {}
    }

    @Test func aShippedReleaseIsStagedPrivatelyAndRemovedEvenOnFailure() async throws {
        let repository = try await GitRepository(discoveringFrom: try GitTests.makeRepository())
        let shipper = ReleaseShipper(layout: AppLayout(app: "shop"))
        for failing in [false, true] {
            let backend = UploadInspector(failUnpack: failing)
            let shipped = (try? await shipper.ship(repository, revision: "HEAD", to: backend, deployer: "tester")) != nil
            #expect(shipped == !failing)
            let upload = try #require(backend.uploads.first)
            #expect(upload.fileMode == 0o600 && upload.folderMode == 0o700, "\(upload)")
            #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: upload.file).deletingLastPathComponent().path))
        }
    }

    @Test func theEnvFileIsStagedPrivatelyAndRemovedEvenOnFailure() async throws {
        let envFile = try TempDir.make().path + "/prod.env"
        try "DATABASE_PASSWORD=s3cret\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let config = ServerConfig(app: BlueGreenConfig(app: "shop", command: "serve", envFile: envFile, runtime: .process))
        for failing in [false, true] {
            let backend = UploadInspector(failUpload: failing)
            let provisioned = (try? await Provisioner(config: config).provision(on: backend)) != nil
            #expect(provisioned == !failing)
            let upload = try #require(backend.uploads.first)
            #expect(upload.fileMode == 0o600 && upload.folderMode == 0o700, "\(upload)")
            #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: upload.file).deletingLastPathComponent().path))
        }
    }

    // MARK: the Deployfile cache

    /// The runtime as the launcher finds it (beside the real binary).
    static var runtime: DeployfileCompiler.Runtime {
        let directory = URL(fileURLWithPath: CLITests.binary).resolvingSymlinksInPath().deletingLastPathComponent().path
        return DeployfileCompiler.Runtime(modules: directory + "/Modules", library: directory)
    }

    @Test func theCacheKeyFollowsTheCompilerSymlinkToItsBinary() throws {
        let dir = try TempDir.make().path
        try "one".write(toFile: dir + "/driver-a", atomically: true, encoding: .utf8)
        try "another".write(toFile: dir + "/driver-b", atomically: true, encoding: .utf8)
        try "import SwiftFab\n".write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let link = dir + "/swiftc"
        func key() throws -> String {
            try DeployfileCompiler(deployfile: dir + "/Deployfile.swift", runtime: Self.runtime, cacheDirectory: dir + "/cache", swiftc: link).cacheKey()
        }
        func point(to target: String, stampedLike times: [timespec]?) {
            unlink(link)
            symlink(target, link)
            if let times { _ = times.withUnsafeBufferPointer { utimensat(AT_FDCWD, link, $0.baseAddress, AT_SYMLINK_NOFOLLOW) } }
        }
        point(to: "driver-a", stampedLike: nil)
        let before = try key()
        var info = stat()
        #expect(lstat(link, &info) == 0)
        // Same link name, same length of target, same link time: only the binary differs.
        point(to: "driver-b", stampedLike: [info.st_atim, info.st_mtim])
        #expect(try key() != before)
        point(to: "driver-a", stampedLike: nil)
        #expect(try key() == before)
    }

    @Test(.sandbox) func theCompiledProgramIsExactlyTheBytesHashed() async throws {
        let dir = try TempDir.make().path
        let file = dir + "/Deployfile.swift"
        let deployfile = { (word: String) in "import SwiftFab\nlet deployfile = Deployfile(\"x\") { Task(\"a\", \"\(word)\") { Run(\"true\") } }\n" }
        try deployfile("hashed-text").write(toFile: file, atomically: true, encoding: .utf8)
        // A compiler that edits the Deployfile just before compiling: the edit must not be what runs.
        let swiftc = dir + "/swiftc"
        try """
            #!/bin/sh
            printf '%s' \(Shell.quote(deployfile("edited-meanwhile"))) > \(Shell.quote(file))
            exec \(Shell.quote(DeployfileCompiler.findSwiftc())) "$@"

            """.write(toFile: swiftc, atomically: true, encoding: .utf8)
        chmod(swiftc, 0o755)
        let compiler = DeployfileCompiler(deployfile: file, runtime: Self.runtime, cacheDirectory: dir + "/cache", swiftc: swiftc)
        let key = try compiler.cacheKey()
        let (program, compiled) = try compiler.program()
        #expect(compiled && program == dir + "/cache/deployfile-" + key)
        let list = await Shell.runLocally([program, "--list"], environment: ["NO_COLOR": "1"])
        #expect(list.output.contains("hashed-text") && !list.output.contains("edited-meanwhile"), "\(list.output)")
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains("edited-meanwhile"))
        // The build folder is gone; the cache is private, its program too.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/cache") == ["deployfile-" + key])
        #expect(Self.mode(dir + "/cache") == 0o700)
        #expect(Self.mode(program).map { $0 & 0o077 } == 0)
    }

    @Test(.sandbox) func aCacheOthersCouldWriteIsRefusedAndNothingRuns() async throws {
        let dir = try TempDir.make().path
        let file = dir + "/Deployfile.swift"
        try """
            import Foundation
            import SwiftFab

            // Leaves a mark where the test says, when it runs: the path of a
            // temporary folder that must be gone once the program has exited.
            let deployfile: Deployfile = {
                let folder = try! PrivateFile.makeTemporaryDirectory()
                _ = FileManager.default.createFile(atPath: ProcessInfo.processInfo.environment["SWIFTFAB_TEST_MARKER"]!, contents: Data(folder.utf8))
                return Deployfile("x") { Task("a", "marked") { Run("true") } }
            }()

            """.write(toFile: file, atomically: true, encoding: .utf8)
        let swiftc = DeployfileCompiler.findSwiftc()
        let compiled = try DeployfileCompiler(deployfile: file, runtime: Self.runtime, cacheDirectory: dir + "/built", swiftc: swiftc).program().path
        let name = URL(fileURLWithPath: compiled).lastPathComponent
        let nobody: uid_t = 65534

        /// A cache at `path` holding the compiled program, as the launcher would look for it.
        func plant(_ path: String, mode: mode_t = 0o700, programMode: mode_t = 0o700, programOwner: uid_t? = nil) throws -> String {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let program = path + "/" + name
            try FileManager.default.copyItem(atPath: compiled, toPath: program)
            chmod(program, programMode)
            if let programOwner { chown(program, programOwner, gid_t(programOwner)) }
            chmod(path, mode)
            return program
        }
        /// The launcher run with `cache`; whether the program ran.
        func run(cache: String) async -> (status: Int32, output: String, ran: Bool) {
            let marker = cache + ".ran"
            let result = await Shell.runLocally([CLITests.binary, "-f", file, "--list"],
                                          environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": cache, "SWIFTFAB_SWIFTC": swiftc,
                                                        "SWIFTFAB_TEST_MARKER": marker])
            return (result.status, result.output, FileManager.default.fileExists(atPath: marker))
        }

        // A sound cache runs its program (so the refusals below are the checks, not a wrong key).
        _ = try plant(dir + "/sound")
        var result = await run(cache: dir + "/sound")
        #expect(result.status == 0 && result.ran && result.output.contains("marked"), "\(result.output)")
        // Its temporary folder went at exit.
        let folder = try String(contentsOfFile: dir + "/sound.ran", encoding: .utf8)
        #expect(folder.hasPrefix(NSTemporaryDirectory()) && !FileManager.default.fileExists(atPath: folder), "\(folder)")

        _ = try plant(dir + "/group", mode: 0o770)
        result = await run(cache: dir + "/group")
        #expect(result.status != 0 && !result.ran, "\(result.output)")
        #expect(result.output.contains("writable by group or others") && result.output.contains("chmod 700 \(dir)/group"), "\(result.output)")

        let othersProgram = try plant(dir + "/program", programMode: 0o757)
        result = await run(cache: dir + "/program")
        #expect(result.status != 0 && !result.ran, "\(result.output)")
        #expect(result.output.contains("writable by group or others") && result.output.contains("rm \(othersProgram)"), "\(result.output)")

        _ = try plant(dir + "/foreign-program", programMode: 0o755, programOwner: nobody)
        result = await run(cache: dir + "/foreign-program")
        #expect(result.status != 0 && !result.ran && result.output.contains("belongs to another user"), "\(result.output)")

        _ = try plant(dir + "/foreign")
        chown(dir + "/foreign", nobody, gid_t(nobody))
        result = await run(cache: dir + "/foreign")
        #expect(result.status != 0 && !result.ran && result.output.contains("belongs to another user"), "\(result.output)")

        // A symlink someone else made, even to a sound folder of ours; our own symlink to it is fine.
        _ = try plant(dir + "/target")
        symlink(dir + "/target", dir + "/link")
        lchown(dir + "/link", nobody, gid_t(nobody))
        result = await run(cache: dir + "/link")
        #expect(result.status != 0 && !result.ran, "\(result.output)")
        #expect(result.output.contains("symlink owned by another user") && result.output.contains("rm \(dir)/link"), "\(result.output)")
        symlink(dir + "/target", dir + "/own-link")
        await #expect(run(cache: dir + "/own-link").ran)
    }
}
