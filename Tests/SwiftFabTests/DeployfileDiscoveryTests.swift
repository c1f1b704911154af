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
        #expect(run.status == 64 && run.output.contains("no Deployfile.swift here, nor in a parent folder"), "\(run.output)")
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
