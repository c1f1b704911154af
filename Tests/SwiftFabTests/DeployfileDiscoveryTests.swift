import Foundation
import Testing
@testable import SwiftFab

/// Which Deployfile a run uses: the nearest, from any folder of the project
/// up to its repository's root; and `swiftfab edit`'s package around it.
@Suite(.serialized, .sandbox) struct DeployfileDiscoveryTests {
    let cli = DeployfileCLITests()

    /// Its setting comes from an env file named relatively: found only if
    /// relative paths are the Deployfile's folder's, wherever the run starts.
    static let deployfile = """
        import SwiftFab
        let deployfile = Deployfile("project") {
            Environment("here") { Host("web1.example.com", roles: .web) }
            EnvFile("project.env")
            Setting("greeting", .env("GREETING"))
            Task("greet", "Greet from the project") { Run("echo \\(Settings["greeting"])") }
        }

        """

    /// A repository with the Deployfile at its root and folders below.
    func project(in parent: String? = nil) async throws -> String {
        let root = try parent ?? TempDir.make().path
        try FileManager.default.createDirectory(atPath: root + "/app/src", withIntermediateDirectories: true)
        try Self.deployfile.write(toFile: root + "/Deployfile.swift", atomically: true, encoding: .utf8)
        try "GREETING=hello-from-the-project\n".write(toFile: root + "/project.env", atomically: true, encoding: .utf8)
        try await ProjectRepository.commitAll(in: root)
        return root
    }

    @Test func aSubfolderRunsTheProjectsTask() async throws {
        let root = try await project()
        let sub = root + "/app/src"
        let run = await cli.swiftfab(["-v", "greet", "--dry-run"], in: sub)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("swiftfab: using \(root)/Deployfile.swift"), "\(run.output)")
        #expect(run.output.contains("hello-from-the-project"), "\(run.output)")
        await #expect(!cli.swiftfab(["greet", "--dry-run"], in: sub).output.contains("swiftfab: using"))
        // Completion and the task names for completion scripts find it the same way.
        await #expect(cli.swiftfab(["__complete", "bash", "gr"], in: sub).output == "greet\n")
        await #expect(cli.swiftfab(["--list-names"], in: sub).output == "greet\nhistory\n")
    }

    @Test func theSearchStopsAtTheRepositorysRoot() async throws {
        // A Deployfile above a repository is another project's: never used from inside it.
        let outer = try await project()
        let inner = outer + "/vendor/lib"
        try FileManager.default.createDirectory(atPath: inner + "/src", withIntermediateDirectories: true)
        await #expect(Shell.runLocally(["/usr/bin/git", "init", "-q", inner]).status == 0)
        let run = await cli.swiftfab(["greet", "--dry-run"], in: inner + "/src")
        #expect(run.status == 64, "\(run.output)")
        #expect(run.output.contains("no Deployfile.swift here (\(inner)/src), nor in a parent folder up to the repository's root (\(inner))"), "\(run.output)")
        await #expect(cli.swiftfab(["__complete", "bash", "gr"], in: inner + "/src").output == "")
        await #expect(cli.swiftfab(["-f", outer + "/Deployfile.swift", "greet", "--dry-run"], in: inner + "/src").status == 0)
        // Outside the repository's folders, the nearest one still wins.
        await #expect(cli.swiftfab(["--list-names"], in: outer + "/vendor").output == "greet\nhistory\n")
    }

    @Test func theNearestDeployfileWins() async throws {
        let root = try await project()
        try Self.deployfile.replacingOccurrences(of: "\"greet\"", with: "\"tools-task\"")
            .write(toFile: root + "/app/Deployfile.swift", atomically: true, encoding: .utf8)
        try "GREETING=hello-from-app\n".write(toFile: root + "/app/project.env", atomically: true, encoding: .utf8)
        await #expect(cli.swiftfab(["--list-names"], in: root + "/app/src").output == "tools-task\nhistory\n")
        await #expect(cli.swiftfab(["tools-task", "--dry-run"], in: root + "/app/src").output.contains("hello-from-app"))
        await #expect(cli.swiftfab(["--list-names"], in: root).output == "greet\nhistory\n")
    }

    // MARK: never someone else's Deployfile

    /// Its top-level code leaves a mark where SWIFTFAB_TEST_MARKER says: proof that it ran.
    static let marking = """
        import Foundation
        import SwiftFab

        let deployfile: Deployfile = {
            _ = FileManager.default.createFile(atPath: ProcessInfo.processInfo.environment["SWIFTFAB_TEST_MARKER"]!, contents: nil)
            return Deployfile("marked") { Task("greet", "Greet from the marked one") { Run("echo hello") } }
        }()

        """

    /// `swiftfab ARGS` in `dir`, by default with an empty cache of its own:
    /// whether it compiled (the cache appeared) and whether the Deployfile ran (its mark).
    func attempt(_ arguments: [String], in dir: String, cache: String? = nil, home: String? = nil) async throws
        -> (status: Int32, output: String, compiled: Bool, ran: Bool) {
        let scratch = try TempDir.make().path
        var environment = ["SWIFTFAB_CACHE_DIR": cache ?? scratch + "/cache", "SWIFTFAB_TEST_MARKER": scratch + "/ran"]
        if let home { environment["HOME"] = home }
        let run = await cli.swiftfab(arguments, in: dir, environment: environment)
        return (run.status, run.output, FileManager.default.fileExists(atPath: scratch + "/cache"), FileManager.default.fileExists(atPath: scratch + "/ran"))
    }

    /// A folder (no repository) holding the marking Deployfile, and a folder below it.
    func markedFolder() throws -> (folder: String, sub: String) {
        let folder = try TempDir.make().path
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        try Self.marking.write(toFile: folder + "/Deployfile.swift", atomically: true, encoding: .utf8)
        return (folder, folder + "/sub")
    }

    /// What `__complete bash ''` answers without a Deployfile: the builtins, nothing else.
    static let builtinsAnswer = Completion.builtins.map { $0.0 + "\n" }.joined()

    @Test func outsideARepositoryOnlyTheCurrentFoldersDeployfileRuns() async throws {
        let (folder, sub) = try markedFolder()
        let run = try await attempt(["greet", "--dry-run"], in: sub)
        #expect(run.status == 64 && !run.compiled && !run.ran, "\(run.output)")
        // (Up to / here; up to /tmp where /tmp is a filesystem of its own.)
        #expect(run.output.contains("no Deployfile.swift here (\(sub)); outside a git repository (no .git "), "\(run.output)")
        #expect(run.output.contains(") swiftfab looks only here"), "\(run.output)")
        #expect(run.output.contains("-f FILE names another"), "\(run.output)")
        // What a Tab runs: the builtins, silently, nothing compiled.
        let tab = try await attempt(["__complete", "bash", ""], in: sub)
        #expect(tab.status == 0 && tab.output == Self.builtinsAnswer && !tab.compiled && !tab.ran, "\(tab.output)")
        let names = try await attempt(["--list-names"], in: sub)
        #expect(names.status == 0 && names.output == "" && !names.compiled && !names.ran, "\(names.output)")
        // Here, or named, it runs.
        let here = try await attempt(["--list"], in: folder, cache: DeployfileCLITests.cache)
        #expect(here.status == 0 && here.ran && here.output.contains("Greet from the marked one"), "\(here.output)")
        await #expect(try attempt(["-f", "../Deployfile.swift", "--list"], in: sub, cache: DeployfileCLITests.cache).ran)
    }

    @Test func theSearchStopsAtHomeAndAtAnotherFilesystem() async throws {
        let root = try await project()
        // $HOME inside the repository: its parents are not searched.
        try FileManager.default.createDirectory(atPath: root + "/home/sub", withIntermediateDirectories: true)
        let fromHome = try await attempt(["greet", "--dry-run"], in: root + "/home/sub", home: root + "/home")
        #expect(fromHome.status == 64 && !fromHome.compiled, "\(fromHome.output)")
        #expect(fromHome.output.contains("(no .git up to your home folder \(root)/home) swiftfab looks only here"), "\(fromHome.output)")
        // A filesystem mounted inside the repository (in a mount namespace of the run's own).
        let mounted = root + "/mnt"
        try FileManager.default.createDirectory(atPath: mounted, withIntermediateDirectories: true)
        let script = "mount -t tmpfs none \(Shell.quote(mounted)) && mkdir \(Shell.quote(mounted + "/sub")) && cd \(Shell.quote(mounted + "/sub"))"
            + " && exec " + Shell.join([CLITests.binary, "greet", "--dry-run"])
        let cache = try TempDir.make().path + "/cache"
        let across = await Shell.runLocally(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script],
                                            environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": cache])
        #expect(across.status == 64 && !FileManager.default.fileExists(atPath: cache), "\(across.output)")
        #expect(across.output.contains("(no .git on this filesystem, up to \(mounted)) swiftfab looks only here"), "\(across.output)")
        // From the repository's own folders it is found as before.
        await #expect(cli.swiftfab(["greet", "--dry-run"], in: root + "/home/sub").output.contains("hello-from-the-project"))
    }

    @Test func aDeployfileOfAnotherUserIsRefusedUnlessNamedAndTrusted() async throws {
        let (folder, _) = try markedFolder()
        let file = folder + "/Deployfile.swift"
        let nobody: uid_t = 65534
        #expect(chown(file, nobody, gid_t(nobody)) == 0)
        for arguments in [["--list"], ["-f", file, "--list"], ["--file=Deployfile.swift", "--list"]] {
            let run = try await attempt(arguments, in: folder)
            #expect(run.status == 64 && !run.compiled && !run.ran, "\(arguments): \(run.output)")
            #expect(run.output.contains("refusing to compile \(file): it would run as you, and someone else could have written it"), "\(run.output)")
            #expect(run.output.contains("\(file): it belongs to another user (nobody, uid 65534); if it should be yours: sudo chown root \(file)"),
                    "\(run.output)")
            #expect(run.output.contains("swiftfab -f \(file) --trust-deployfile TASK"), "\(run.output)")
        }
        let tab = try await attempt(["__complete", "bash", ""], in: folder)
        #expect(tab.status == 0 && tab.output == Self.builtinsAnswer && !tab.compiled && !tab.ran, "\(tab.output)")
        // Vouching for it takes naming it.
        let unnamed = try await attempt(["--trust-deployfile", "--list"], in: folder)
        #expect(unnamed.status == 64 && !unnamed.compiled && unnamed.output.contains("--trust-deployfile vouches for the Deployfile named with -f"),
                "\(unnamed.output)")
        let trusted = try await attempt(["-f", file, "--trust-deployfile", "--list"], in: folder, cache: DeployfileCLITests.cache)
        #expect(trusted.status == 0 && trusted.ran && trusted.output.contains("Greet from the marked one"), "\(trusted.output)")
        // A Tab never vouches for it.
        let trustedTab = try await attempt(["__complete", "bash", "-f", file, "--trust-deployfile", ""], in: folder, cache: DeployfileCLITests.cache)
        #expect(trustedTab.output == Self.builtinsAnswer && !trustedTab.ran, "\(trustedTab.output)")
        // Root's is as good as the user's own (only root could have written it).
        #expect(chown(file, 0, 0) == 0)
        await #expect(try attempt(["--list"], in: folder, cache: DeployfileCLITests.cache).ran)
        // A folder of another user's: who owns it can put any Deployfile there.
        #expect(chown(folder, nobody, gid_t(nobody)) == 0)
        let foreignFolder = try await attempt(["-f", file, "--list"], in: folder)
        #expect(foreignFolder.status == 64 && !foreignFolder.compiled, "\(foreignFolder.output)")
        #expect(foreignFolder.output.contains("\(folder): it belongs to another user (nobody, uid 65534)"), "\(foreignFolder.output)")
    }

    @Test func aDeployfileOrFolderOthersCanWriteIsRefused() async throws {
        let root = try await project()
        let file = root + "/Deployfile.swift"
        func refused(_ arguments: [String], in dir: String, naming path: String, mode: String) async throws {
            let run = try await attempt(arguments, in: dir)
            #expect(run.status == 64 && !run.compiled, "\(arguments): \(run.output)")
            #expect(run.output.contains("\(path): it is writable by group or others (mode \(mode)); chmod go-w \(path)"), "\(run.output)")
        }
        chmod(file, 0o664)
        try await refused(["greet", "--dry-run"], in: root, naming: file, mode: "0664")
        try await refused(["-f", file, "greet", "--dry-run"], in: root + "/app/src", naming: file, mode: "0664")
        chmod(file, 0o644)
        // The folder holding it, and a folder searched on the way, where another could be put.
        chmod(root, 0o777)
        try await refused(["greet", "--dry-run"], in: root + "/app/src", naming: root, mode: "0777")
        chmod(root, 0o755)
        chmod(root + "/app", 0o775)
        try await refused(["greet", "--dry-run"], in: root + "/app/src", naming: root + "/app", mode: "0775")
        let tab = try await attempt(["__complete", "bash", ""], in: root + "/app/src")
        #expect(tab.status == 0 && tab.output == Self.builtinsAnswer && !tab.compiled, "\(tab.output)")
        chmod(root + "/app", 0o755)
        await #expect(cli.swiftfab(["greet", "--dry-run"], in: root + "/app/src").output.contains("hello-from-the-project"))
        // A symlink leads to the file that runs: the folder that file is in counts too.
        let (shared, _) = try markedFolder()
        let linked = try TempDir.make().path
        symlink(shared + "/Deployfile.swift", linked + "/Deployfile.swift")
        chmod(shared, 0o777)
        try await refused(["--list"], in: linked, naming: shared, mode: "0777")
        chmod(shared, 0o755)
        await #expect(try attempt(["--list"], in: linked, cache: DeployfileCLITests.cache).ran)
    }

    @Test func aTabCompilesNothingOutsideTheRepository() async throws {
        let root = try await project()
        let (folder, _) = try markedFolder()
        // Named with -f, sound, but another project's: a Tab does not compile it.
        let tab = try await attempt(["__complete", "bash", "-f", folder + "/Deployfile.swift", ""], in: root + "/app/src")
        #expect(tab.status == 0 && tab.output == Self.builtinsAnswer && !tab.compiled && !tab.ran, "\(tab.output)")
        // The repository's own, named or found, answers.
        await #expect(cli.swiftfab(["__complete", "bash", "-f", root + "/Deployfile.swift", "gr"], in: root + "/app/src").output == "greet\n")
    }

    @Test func editWritesAPackageThatBuilds() async throws {
        let root = try await project()
        let run = await cli.swiftfab(["edit"], in: root + "/app/src")
        #expect(run.status == 0, "\(run.output)")
        let folder = root + "/.swiftfab/edit"
        #expect(run.output.contains("wrote \(folder)") && run.output.contains("swift build --package-path"), "\(run.output)")
        // The package's source is the Deployfile itself, through a link that moves with the project.
        let link = folder + "/Sources/Deployfile/Deployfile.swift"
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../../../../Deployfile.swift")
        #expect(try String(contentsOfFile: link, encoding: .utf8) == Self.deployfile)
        // It names the runtime next to this swiftfab, and keeps itself out of git (a deploy wants a clean tree).
        let runtime = URL(fileURLWithPath: CLITests.binary).resolvingSymlinksInPath().deletingLastPathComponent().path
        #expect(try String(contentsOfFile: folder + "/Package.swift", encoding: .utf8).contains("\"\(runtime)/Modules\""))
        await #expect(Shell.runLocally(["/usr/bin/git", "-C", root, "status", "--porcelain"]).output == "")
        // It builds against this build's runtime, as swiftfab compiles the Deployfile.
        let swift = URL(fileURLWithPath: DeployfileCompiler.findSwiftc()).deletingLastPathComponent().path + "/swift"
        let build = await Shell.runLocally([swift, "build", "--package-path", folder])
        #expect(build.status == 0, "\(build.output)")
        await #expect(Shell.runLocally(["/usr/bin/git", "-C", root, "status", "--porcelain"]).output == "")
        // Again: the package is written over, the link replaced.
        await #expect(cli.swiftfab(["edit"], in: root).status == 0)

        let empty = try TempDir.make().path
        let none = await cli.swiftfab(["edit"], in: empty)
        #expect(none.status == 64 && none.output.contains("swiftfab init"), "\(none.output)")
    }
}
