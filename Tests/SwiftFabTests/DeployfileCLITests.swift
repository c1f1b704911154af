import Foundation
import Testing
@testable import SwiftFab

/// `swiftfab` with a real Deployfile: compiled by swiftc against the
/// runtime, cached, and run against the sandbox hosts.
@Suite(.serialized, .sandbox) struct DeployfileCLITests {
    var hosts: TestHosts { .shared }
    /// One cache for the suite: the example compiles once.
    static let cache = (try? TempDir.make().path) ?? "/tmp/swiftfab-test-cache"

    func project(_ deployfile: String? = nil) throws -> String {
        let dir = try TempDir.make().path
        let text = try deployfile ?? String(contentsOfFile: TestHosts.packageRoot + "/Deployfile.swift.example", encoding: .utf8)
        try text.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        return dir
    }

    /// `unsetting`: variables the run must not see, whatever this process has.
    func swiftfab(_ arguments: [String], in dir: String, environment: [String: String] = [:], unsetting: [String] = []) async -> (status: Int32, output: String) {
        let unset = unsetting.map { "unset \($0) && " }.joined()
        let script = "cd \(Shell.quote(dir)) && " + unset + "exec " + Shell.join([CLITests.binary] + arguments)
        return await Shell.runLocally(["/bin/sh", "-c", script],
                                environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": Self.cache].merging(environment) { _, new in new })
    }

    /// The example is what init writes for its server, app and sandbox.
    static let exampleInit = ["init", "--host", "deploy@web1.example.com", "--app", "shop", "--sandbox"]

    @Test func initWritesTheExample() async throws {
        let dir = try TempDir.make().path
        // The example's app has a Dockerfile: its slots are containers.
        try "FROM python:3.12-slim\n".write(toFile: dir + "/Dockerfile", atomically: true, encoding: .utf8)
        let run = await swiftfab(Self.exampleInit, in: dir)
        #expect(run.status == 0, "\(run.output)")
        let written = try String(contentsOfFile: dir + "/Deployfile.swift", encoding: .utf8)
        #expect(written == (try String(contentsOfFile: TestHosts.packageRoot + "/Deployfile.swift.example", encoding: .utf8)))
        await #expect(swiftfab(Self.exampleInit, in: dir).status == 1) // never overwrites without --force
    }

    /// The example shows the product: its deploy, backup and doctor dry-run
    /// with no secret set and no ssh config (deploy ships a commit: a repository).
    @Test func theExampleDryRunsDeployBackupAndDoctorWithNoSecrets() async throws {
        let dir = try project()
        try await ProjectRepository.commitAll(in: dir)
        let home = try TempDir.make().path
        for task in ["deploy", "backup", "doctor"] {
            let dry = await swiftfab([task, "--dry-run", "-v"], in: dir, environment: ["HOME": home], unsetting: ["SHOP_API_TOKEN", "SHOP_DB_PASSWORD"])
            #expect(dry.status == 0, "\(task): \(dry.output)")
            #expect(dry.output.contains("dry run: nothing is run") && dry.output.contains("web1.example.com"), "\(task): \(dry.output)")
            #expect(dry.output.contains("not set here: SHOP_API_TOKEN, SHOP_DB_PASSWORD"), "\(task): \(dry.output)")
        }
        let backup = await swiftfab(["backup", "--dry-run", "-v"], in: dir, environment: ["HOME": home], unsetting: ["SHOP_DB_PASSWORD"])
        #expect(backup.output.contains("[secret SHOP_DB_PASSWORD: not set]"), "\(backup.output)")
    }

    @Test func listDryRunAndRealRunOfTheExample() async throws {
        let dir = try project()
        let list = await swiftfab(["--list"], in: dir)
        #expect(list.status == 0, "\(list.output)")
        for task in ["uptime", "disk", "hello NAME", "check-api", "release-info", "tidy", "deploy [REVISION]", "rollback", "releases", "backup",
                     "backups", "restore [NAME]", "prune-backups", "provision", "doctor", "logs [WHICH]"] {
            #expect(list.output.contains("  \(task) "), "\(task): \(list.output)")
        }

        // Every task's dry run works, without connecting: these hosts don't even exist.
        let nowhere = try TempDir.make().path + "/ssh_config"
        try "Host *\n    HostName 127.0.0.1\n    Port 1\n".write(toFile: nowhere, atomically: true, encoding: .utf8)
        for task in ["uptime", "disk", "hello someone", "check-api", "release-info", "tidy"] {
            let words = task.split(separator: " ").map(String.init)
            let dry = await swiftfab(words + ["--dry-run", "-e", "sandbox", "-F", nowhere], in: dir, environment: ["SHOP_API_TOKEN": "t0ken-value"])
            #expect(dry.status == 0, "\(task): \(dry.output)")
            #expect(dry.output.contains("dry run: nothing is run"))
            #expect(!dry.output.contains("t0ken-value"))
        }
        let dry = await swiftfab(["uptime", "--dry-run", "-e", "sandbox", "-F", nowhere], in: dir)
        #expect(dry.output.contains("th1, th2, th3:\n    $ uptime"))
        // After --, `-f` is the task's argument, not the Deployfile's path.
        let passthrough = await swiftfab(["hello", "--dry-run", "-e", "sandbox", "-F", nowhere, "--", "-f"], in: dir)
        #expect(passthrough.status == 0, "\(passthrough.output)")
        #expect(passthrough.output.contains("echo Hello, -f, from"))

        // For real, against the sandbox hosts.
        let real = await swiftfab(["hello", "it's me", "-e", "sandbox", "-F", hosts.sshConfig], in: dir)
        #expect(real.status == 0, "\(real.output)")
        for host in ["th1", "th2", "th3"] { #expect(real.output.contains("\(host)   | Hello, it's me, from")) }
        #expect(real.output.contains("✓ hello done"))

        let info = await swiftfab(["release-info", "-e", "sandbox", "-F", hosts.sshConfig], in: dir)
        #expect(info.status == 0, "\(info.output)")
        #expect(info.output.contains("▸ disk") && info.output.contains("▸ release-info"))
        #expect(info.output.contains("no release yet"))
    }

    @Test func jsonEventsAndTheLogNeverShowSecrets() async throws {
        let dir = try project()
        let secret = "s3cret-\(UUID().uuidString.prefix(6))"
        let run = await swiftfab(["check-api", "--json", "-e", "sandbox", "-F", hosts.sshConfig], in: dir, environment: ["SHOP_API_TOKEN": secret])
        #expect(run.status == 0, "\(run.output)")
        let events = run.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.contains { $0["event"] as? String == "command_start" && ($0["command"] as? String)?.contains("[secret]") == true })
        #expect(events.contains { $0["event"] as? String == "host_result" && $0["ok"] as? Bool == true })
        #expect(events.contains { $0["event"] as? String == "output" && $0["line"] as? String == "token present" })
        #expect(!run.output.contains(secret))
        let logs = try FileManager.default.contentsOfDirectory(atPath: dir + "/.swiftfab/logs").filter { $0.hasSuffix(".log") }
        #expect(logs.count == 1)
        // The log folder keeps itself out of git (a deploy refuses a dirty tree).
        #expect(try String(contentsOfFile: dir + "/.swiftfab/logs/.gitignore", encoding: .utf8) == "*\n")
        let log = try String(contentsOfFile: dir + "/.swiftfab/logs/" + logs[0], encoding: .utf8)
        #expect(log.contains("run_end") && !log.contains(secret))
        // Its first line says who ran what, with which swiftfab.
        let first = try #require(try JSONSerialization.jsonObject(with: Data(log.prefix { $0 != "\n" }.utf8)) as? [String: Any])
        #expect(first["event"] as? String == "invocation" && first["arguments"] as? [String] == ["check-api", "--json", "-e", "sandbox", "-F", hosts.sshConfig])
        #expect(first["version"] as? String == SwiftFabVersion.current && (first["user"] as? String)?.contains("@") == true, "\(first)")
    }

    /// `ps -C swiftfab`, `pgrep swiftfab`: a running Deployfile is swiftfab, not its cached program's name.
    @Test func aRunningDeployfileIsNamedSwiftfab() async throws {
        let dir = try project("""
            import SwiftFab
            let deployfile = Deployfile("x") {
                Environment("one") { Host("th1") }
                Task("wait", "Waits") { Run("echo waiting; sleep 60") }
            }
            """)
        let running = try RunningSwiftfab(["wait", "-F", hosts.sshConfig], in: dir)
        try await running.waitForOutput("| waiting")
        let name = try String(contentsOfFile: "/proc/\(running.pid)/comm", encoding: .utf8)
        let argv0 = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(running.pid)/cmdline")).split(separator: 0).first.map { String(decoding: $0, as: UTF8.self) }
        let named = await Shell.runLocally(["/usr/bin/pgrep", "-x", "swiftfab"]).output.split(separator: "\n").map(String.init)
        running.send(SIGINT)
        _ = try await running.exitStatus()
        #expect(name == "swiftfab\n" && argv0 == "swiftfab", "comm \(name), argv[0] \(argv0 ?? "-")")
        #expect(named.contains("\(running.pid)"), "\(named)")
    }

    @Test func mistakesGiveClearMessagesAndExitCodes() async throws {
        let dir = try project()
        let unknown = await swiftfab(["uptim"], in: dir)
        #expect(unknown.status == 64)
        #expect(unknown.output.contains("unknown task uptim") && unknown.output.contains("did you mean: uptime"))
        let missing = await swiftfab(["check-api", "-e", "sandbox", "-F", hosts.sshConfig], in: dir, unsetting: ["SHOP_API_TOKEN"])
        #expect(missing.status == 1)
        #expect(missing.output.contains("SHOP_API_TOKEN, which is not set"))
        let failing = try project("""
            import SwiftFab
            let deployfile = Deployfile("x") {
                Environment("one") { Host("th1"); Host("th2") }
                Task("fail", "Fails on th2") { Run("test \\"$(echo $SSH_CONNECTION | cut -d' ' -f3)\\" != \(hosts.ip(2))") }
            }
            """)
        let failed = await swiftfab(["fail", "-F", hosts.sshConfig], in: failing)
        #expect(failed.status == 1)
        #expect(failed.output.contains("th2   failed"))
        #expect(failed.output.contains("th1   ok"))
    }

    @Test func completionScriptsAndTaskNames() async throws {
        let dir = try project()
        let names = await swiftfab(["--list-names"], in: dir)
        #expect(names.output.split(separator: "\n").map(String.init) == ["deploy", "promote", "rollback", "releases", "live", "status", "unlock",
                                                                         "backup", "backups", "restore", "prune-backups", "provision", "doctor", "logs",
                                                                         "uptime", "disk", "hello", "check-api", "release-info", "tidy", "history"])
        await #expect(swiftfab(["--list-names"], in: try TempDir.make().path) == (0, ""))
        for shell in ["bash", "zsh", "fish"] {
            let script = await swiftfab(["completions", shell], in: dir)
            #expect(script.status == 0 && script.output.contains("swiftfab __complete \(shell)"), "\(shell)")
        }
        // The bash script really completes task names.
        let bash = await swiftfab(["completions", "bash"], in: dir).output
        let binaryDir = URL(fileURLWithPath: CLITests.binary).deletingLastPathComponent().path
        let probe = "cd \(Shell.quote(dir)) && PATH=\(Shell.quote(binaryDir)):$PATH && \(bash)\nCOMP_WORDS=(swiftfab release-); COMP_CWORD=1; _swiftfab; echo \"${COMPREPLY[@]}\""
        let completed = await Shell.runLocally(["/bin/bash", "-c", probe], environment: ["SWIFTFAB_CACHE_DIR": Self.cache])
        #expect(completed.output.trimmingCharacters(in: .whitespacesAndNewlines) == "release-info", "\(completed.output)")
    }

    @Test func theReadmeExampleCompiles() async throws {
        let readme = try String(contentsOfFile: TestHosts.packageRoot + "/README.md", encoding: .utf8)
        let section = try #require(readme.range(of: "## The Deployfile"))
        let rest = readme[section.upperBound...]
        let start = try #require(rest.range(of: "```swift\n"))
        let end = try #require(rest[start.upperBound...].range(of: "```"))
        let dir = try project(String(rest[start.upperBound..<end.lowerBound]))
        let list = await swiftfab(["--list"], in: dir)
        #expect(list.status == 0, "\(list.output)")
        #expect(list.output.contains("restore NAME"), "\(list.output)")
        let dry = await swiftfab(["restore", "db-2026.dump", "--clean", "--dry-run", "-e", "production"], in: dir)
        #expect(dry.output.contains("sudo -n -u postgres -- sh -c 'pg_restore --clean -d shop db-2026.dump'"), "\(dry.output)")
    }

    /// The first ```swift block after `heading` in the README.
    static func readmeBlock(after heading: String) throws -> String {
        let readme = try String(contentsOfFile: TestHosts.packageRoot + "/README.md", encoding: .utf8)
        let rest = readme[try #require(readme.range(of: heading)).upperBound...]
        let start = try #require(rest.range(of: "```swift\n"))
        let end = try #require(rest[start.upperBound...].range(of: "```"))
        return String(rest[start.upperBound..<end.lowerBound])
    }

    @Test func theReadmeRecipeExamplesCompile() async throws {
        // The backups section: its lines go inside a Deployfile.
        let backups = try Self.readmeBlock(after: "## Database backups")
        let dir = try project("import SwiftFab\nimport SwiftFabRecipes\n\nlet deployfile = Deployfile(\"shop\") {\n"
                              + "    Environment(\"production\") { Host(\"db1.example.com\", roles: .db) }\n" + backups + "}\n")
        let dry = await swiftfab(["backup", "--dry-run", "-v"], in: dir, environment: ["DB_PASSWORD": "pw-not-to-show"])
        #expect(dry.status == 0 && dry.output.contains("pg_dump") && dry.output.contains("cd /srv/shop/backups") && dry.output.contains("f=shop-2"), "\(dry.output)")
        #expect(!dry.output.contains("pw-not-to-show"))
        // The provisioning section: declarations first, then what goes in the Deployfile.
        let provision = try Self.readmeBlock(after: "## Provision a server")
        let parts = provision.components(separatedBy: "// in the Deployfile:\n")
        #expect(parts.count == 2)
        let full = try project("import SwiftFab\nimport SwiftFabRecipes\n\n" + parts[0] + "let deployfile = Deployfile(\"shop\") {\n"
                               + "    Environment(\"production\") { Host(\"web1.example.com\", roles: .web, .db) }\n" + parts[1] + "}\n")
        let list = await swiftfab(["--list"], in: full)
        #expect(list.status == 0, "\(list.output)")
        for task in ["deploy", "rollback", "backup", "restore", "provision", "doctor", "logs"] {
            #expect(list.output.contains("  \(task) ") || list.output.contains("  \(task)\n"), "\(task): \(list.output)")
        }
    }

    @Test func brokenDeployfileNamesItsOwnLineAndTheCacheIsReused() async throws {
        let broken = try project("""
            import SwiftFab

            let deployfile = Deployfile("x") {
                Task("t", "") {
                    Runn("uptime")
                }
            }
            """)
        let result = await swiftfab(["--list"], in: broken)
        #expect(result.status == 1)
        #expect(result.output.contains("Deployfile.swift:5:"), "\(result.output)")
        #expect(result.output.contains("Runn"))
        #expect(!result.output.contains("main.swift"))

        let noName = try project("import SwiftFab\nlet tasks = Deployfile(\"x\") { }\n")
        await #expect(swiftfab(["--list"], in: noName).output.contains("must declare `let deployfile = Deployfile"))

        // A second run uses the compiled program; a change compiles again.
        let cache = try TempDir.make().path
        let dir = try project("import SwiftFab\nlet deployfile = Deployfile(\"x\") { Task(\"a\", \"first\") { Run(\"true\") } }\n")
        await #expect(swiftfab(["--list"], in: dir, environment: ["SWIFTFAB_CACHE_DIR": cache]).output.contains("first"))
        let programs = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("deployfile-") }
        #expect(programs.count == 1)
        let stamp = try FileManager.default.attributesOfItem(atPath: cache + "/" + programs[0])[.modificationDate] as? Date
        await #expect(swiftfab(["--list"], in: dir, environment: ["SWIFTFAB_CACHE_DIR": cache]).status == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: cache + "/" + programs[0])[.modificationDate] as? Date == stamp)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("deployfile-") }.count == 1)
        try "import SwiftFab\nlet deployfile = Deployfile(\"x\") { Task(\"a\", \"second\") { Run(\"true\") } }\n"
            .write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        await #expect(swiftfab(["--list"], in: dir, environment: ["SWIFTFAB_CACHE_DIR": cache]).output.contains("second"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("deployfile-") }.count == 2)
    }
}
