import Foundation
import Testing
@testable import SwiftFab

/// From nothing to a user's own server: `swiftfab init` writes a Deployfile
/// that dry-runs as written, says what stands before a first deploy, and
/// refuses what it cannot write.
@Suite(.serialized, .sandbox) struct FirstRunTests {
    let cli = DeployfileCLITests()
    /// The secrets a generated Deployfile names: no run here may see them.
    static let secrets = ["SHOP_API_TOKEN", "SHOP_DB_PASSWORD"]

    /// Runs in `dir` with no ssh config (an empty home) and no secret set.
    func fresh(_ arguments: [String], in dir: String, home: String) async -> (status: Int32, output: String) {
        await cli.swiftfab(arguments, in: dir, environment: ["HOME": home], unsetting: Self.secrets)
    }

    /// Every task's arguments for a dry run.
    static func dryRun(_ task: String) -> [String] {
        switch task {
        case "hello": return ["hello", "someone", "--dry-run"]
        case "restore": return ["restore", "shop-20260101T000000Z.dump", "--yes", "--dry-run"]
        default: return [task, "--dry-run"]
        }
    }

    @Test(arguments: [
        ["--host", "deploy@web1.example.com"],
        [],                                                    // no terminal: the placeholder server
        ["--host", "root@203.0.113.7:2222", "--recipes", "bluegreen,server"],
        ["--host", "db1", "--recipes", "postgres"],
        ["--host", "web1", "--recipes", "none", "--sandbox"],
    ])
    func everyTaskOfAFreshDeployfileDryRuns(_ options: [String]) async throws {
        let dir = try TempDir.make().path, home = try TempDir.make().path
        let created = await fresh(["init", "--app", "shop"] + options, in: dir, home: home)
        #expect(created.status == 0, "\(created.output)")
        try await ProjectRepository.commitAll(in: dir)
        await #expect(fresh(["check"], in: dir, home: home).status == 0)
        let tasks = await fresh(["--list-names"], in: dir, home: home).output.split(separator: "\n").map(String.init)
        #expect(tasks.contains("uptime") && tasks.contains("hello"), "\(tasks)")
        let deploys = !options.contains("--recipes") || options.contains("bluegreen,server")
        #expect(tasks.contains("deploy") == deploys, "\(tasks)")
        for task in tasks {
            let dry = await fresh(Self.dryRun(task), in: dir, home: home)
            #expect(dry.status == 0, "\(options) \(task): \(dry.output)")
            #expect(dry.output.contains("dry run: nothing is run"), "\(options) \(task): \(dry.output)")
        }
        if options.isEmpty {
            #expect(created.output.contains("your-server.example.com is a placeholder"))
            await #expect(fresh(["uptime", "--dry-run"], in: dir, home: home).output.contains("your-server.example.com"))
        }
    }

    @Test func aFolderOutsideGitIsSaidAtInitAndDeployNamesIt() async throws {
        let dir = try TempDir.make().path, home = try TempDir.make().path
        let created = await fresh(["init", "--host", "deploy@web1.example.com"], in: dir, home: home)
        #expect(created.status == 0 && created.output.contains("is in none") && created.output.contains("git init"), "\(created.output)")
        let outside = await fresh(["deploy", "--dry-run"], in: dir, home: home)
        #expect(outside.status == 1 && outside.output.contains("is not inside a git repository"), "\(outside.output)")
        // In a repository, an uncommitted Deployfile is what stands in the way: init says so, and so does deploy.
        let repository = try TempDir.make().path
        await #expect(Shell.runLocally(["/usr/bin/git", "init", "-q", repository]).status == 0)
        let inRepository = await fresh(["init", "--host", "deploy@web1.example.com", "--app", "shop"], in: repository, home: home)
        #expect(inRepository.output.contains("has none yet"), "\(inRepository.output)")
        try await ProjectRepository.commitAll(in: repository)
        let committed = await fresh(["deploy", "--dry-run"], in: repository, home: home)
        #expect(committed.status == 0, "\(committed.output)")
        #expect(committed.output.contains("First commit"), "\(committed.output)")
        await #expect(fresh(["init", "--force", "--host", "deploy@web2.example.com", "--app", "shop"], in: repository, home: home)
            .output.contains("commit Deployfile.swift"))
        let dirty = await fresh(["deploy", "--dry-run"], in: repository, home: home)
        #expect(dirty.status == 1 && dirty.output.contains("uncommitted changes: Deployfile.swift"), "\(dirty.output)")
    }

    @Test func initWritesTheServerTheAppAndTheRecipesAskedFor() async throws {
        let parent = try TempDir.make().path
        let dir = parent + "/My Shop 2!"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let run = await cli.swiftfab(["init", "--host", "ops@web9.example.com:2200", "--recipes", "postgres"], in: dir)
        #expect(run.status == 0, "\(run.output)")
        let text = try String(contentsOfFile: dir + "/Deployfile.swift", encoding: .utf8)
        #expect(text.contains("Deployfile(\"my-shop-2\")") && text.contains("database: \"my_shop_2\""))
        #expect(text.contains("Host(\"web9.example.com\", user: \"ops\", port: 2200, roles: .web, .db)"))
        #expect(text.contains(".secret(env: \"MY_SHOP_2_DB_PASSWORD\")"))
        #expect(!text.contains("BlueGreen(") && !text.contains("ServerTasks(") && !text.contains("sandbox"))
    }

    /// init picks how the slots run from the repository, and says which and why:
    /// a Dockerfile at its root means containers built from it, none means processes.
    @Test func initPicksTheRuntimeFromTheRepositoryAndSaysWhy() async throws {
        let plain = try TempDir.make().path
        await #expect(Shell.runLocally(["/usr/bin/git", "init", "-q", plain]).status == 0)
        let processes = await cli.swiftfab(["init", "--host", "web1", "--app", "shop"], in: plain)
        #expect(processes.status == 0 && processes.output.contains("runtime: processes under the app's supervisord, because \(plain) has no Dockerfile"),
                "\(processes.output)")
        let processText = try String(contentsOfFile: plain + "/Deployfile.swift", encoding: .utf8)
        #expect(processText.contains("runtime: .process)") && !processText.contains("runtime: .container("), "\(processText)")

        // The Dockerfile is at the repository's root; init runs in a folder below it.
        let repository = try TempDir.make().path
        await #expect(Shell.runLocally(["/usr/bin/git", "init", "-q", repository]).status == 0)
        try "FROM python:3.12-slim\n".write(toFile: repository + "/Dockerfile", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: repository + "/deploy", withIntermediateDirectories: true)
        let containers = await cli.swiftfab(["init", "--host", "web1", "--app", "shop"], in: repository + "/deploy")
        #expect(containers.status == 0 && containers.output.contains("runtime: containers, because \(repository)/Dockerfile exists"), "\(containers.output)")
        #expect(try String(contentsOfFile: repository + "/deploy/Deployfile.swift", encoding: .utf8).contains("runtime: .container(ContainerRuntime()))"))

        // Backups alone declare no app: no runtime to pick.
        let database = await cli.swiftfab(["init", "--host", "db1", "--recipes", "postgres", "--force"], in: plain)
        #expect(database.status == 0 && !database.output.contains("runtime:"), "\(database.output)")
    }

    @Test func initRefusesWhatItCannotWrite() async throws {
        let dir = try TempDir.make().path
        let unknown = await cli.swiftfab(["init", "--recipes", "bluegren,postgres"], in: dir)
        #expect(unknown.status == 64 && unknown.output.contains("no recipe bluegren; did you mean bluegreen?"), "\(unknown.output)")
        for host in ["deploy@", "@web1", "two words", "web1:port", "x\"); Run(\"rm -rf /"] {
            let bad = await cli.swiftfab(["init", "--host", host], in: dir)
            #expect(bad.status == 64 && bad.output.contains("--host: not a server"), "\(host): \(bad.output)")
        }
        let app = await cli.swiftfab(["init", "--app", "My App"], in: dir)
        #expect(app.status == 64 && app.output.contains("e.g. my-app"), "\(app.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/Deployfile.swift"))
        try "// mine\n".write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let existing = await cli.swiftfab(["init", "--host", "web1"], in: dir)
        #expect(existing.status == 1 && existing.output.contains("exists already"), "\(existing.output)")
        #expect(try String(contentsOfFile: dir + "/Deployfile.swift", encoding: .utf8) == "// mine\n")
        await #expect(cli.swiftfab(["init", "--host", "web1", "--force"], in: dir).status == 0)
        #expect(try String(contentsOfFile: dir + "/Deployfile.swift", encoding: .utf8).contains("Host(\"web1\", roles: .web, .db)"))
    }

    /// On a terminal init asks; a wrong answer is asked again. (`script` gives it one.)
    @Test func initAsksForTheServerOnATerminal() async throws {
        let dir = try TempDir.make().path
        let command = "cd \(Shell.quote(dir)) && " + Shell.join([CLITests.binary, "init", "--app", "shop"])
        let run = await Shell.runLocally(["/usr/bin/script", "-qec", command, "/dev/null"], environment: ["NO_COLOR": "1"],
                                   stdin: "not a host\ndeploy@web7.example.com\n")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.components(separatedBy: "Your server, as user@host").count == 3, "\(run.output)")
        #expect(run.output.contains("not a server: not a host"))
        let text = try String(contentsOfFile: dir + "/Deployfile.swift", encoding: .utf8)
        #expect(text.contains("Host(\"web7.example.com\", user: \"deploy\", roles: .web, .db)"))
    }
}
