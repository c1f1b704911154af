import Foundation
import Testing
@testable import SwiftFab

/// The real `swiftfab` and a real Deployfile: every mistake on the command
/// line exits 64 and connects to nothing. Every host
/// resolves to a listener of this test's own, which counts who connects.
@Suite(.serialized, .sandbox) struct CommandLineContractTests {
    static let deployfile = """
        import Foundation
        import SwiftFab
        import SwiftFabRecipes

        let env = ProcessInfo.processInfo.environment
        let app = BlueGreenConfig(app: "shop", command: "serve {socket}", repository: env["CLI_REPO"] ?? ".", runtime: .process)
        let deployfile = Deployfile("cli") {
            Environment("production") { Host("web1.example.com", roles: .web); Host("web2.example.com", roles: .web) }
            Environment("staging", default: true) { Host("stage1", roles: .web) }
            Task("uptime", "Show load") { Run("uptime") }
            BlueGreen(app)
            Logs(ServerConfig(app: app))
        }
        """

    /// A TCP listener that records connection attempts.
    final class Recorder {
        let fd: Int32
        let port: Int
        init() throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.77")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard bound == 0, listen(listener, 64) == 0 else { throw SwiftFabError(.local, "cannot listen on 127.0.0.77") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
            _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
            fd = listener
            port = Int(UInt16(bigEndian: address.sin_port))
        }
        /// Connections waiting since the last call (each is closed at once).
        func accepted() -> Int {
            var count = 0
            while case let client = accept(fd, nil, nil), client >= 0 { close(client); count += 1 }
            return count
        }
        deinit { close(fd) }
    }

    @Test func mistakesOnTheCommandLineConnectToNothing() async throws {
        let recorder = try Recorder()
        let dir = try TempDir.make().path
        try Self.deployfile.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let config = dir + "/ssh_config"
        try "Host *\n    HostName 127.0.0.77\n    Port \(recorder.port)\n    ConnectTimeout 2\n    BindAddress 127.0.0.1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let repository = try await GitTests.makeRepository()
        func swiftfab(_ words: [String]) async -> (status: Int32, output: String) {
            await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(dir)) && exec " + Shell.join([CLITests.binary] + words) + " </dev/null"],
                             environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache, "CLI_REPO": repository])
        }
        await #expect(swiftfab(["--list"]).status == 0)   // compiled once, before the mistakes are timed by nobody
        let mistakes: [([String], Int32, String)] = [
            (["rollback", "-e", "production", "--dryrun"], 64, "did you mean --dry-run"),
            (["rollback", "--dry"], 64, "rollback has no option --dry"),
            (["rollback", "-n"], 64, "rollback has no option -n"),
            (["deploy", "--stag"], 64, "did you mean --stage"),
            (["deploy", "--stag", "--dry-run"], 64, "did you mean --stage"),
            (["deploy", "v9.9", "--dry-run"], 64, "no revision v9.9"),
            (["uptime", "extra"], 64, "uptime takes no arguments"),
            (["-R", "wbe", "uptime"], 64, "did you mean web"),
            (["-e", "prodution", "uptime"], 64, "did you mean production"),
            (["-e", "production", "-H", "web3", "uptime"], 64, "production has no host web3"),
            (["uptim"], 64, "did you mean: uptime"),
            (["logs", "nginx"], 64, "WHICH is one of slot, blue, green, proxy, db"),
            (["deploy", "--lock-wait", "soon"], 64, "--lock-wait takes a number"),
            (["rollback", "main"], 64, "rollback: \"main\" is not a release"),
            (["rollback", "-0", "--dry-run"], 64, "or -N (N releases before the live one)"),
            (["rollback", "-2", "extra"], 64, "rollback takes at most 1 argument"),
            // An empty word (an unset variable, a stray "") names nothing: said as such.
            (["deploy", ""], 64, "REVISION is empty: give what to deploy"),
            (["rollback", " "], 64, "RELEASE is empty: give where to go"),
            (["logs", ""], 64, "WHICH is empty"),
            (["-H", "", "uptime"], 64, "-H needs HOSTS, not an empty word"),
            (["uptime", "-e", ""], 64, "-e needs ENV, not an empty word"),
            (["uptime", "--user="], 64, "--user needs USER, not an empty word"),
            (["-f", "", "uptime"], 64, "-f needs FILE, not an empty word"),
        ]
        for (words, status, says) in mistakes {
            let run = await swiftfab(words + ["-F", config])
            #expect(run.status == status, "\(words): \(run.output)")
            #expect(run.output.contains(says), "\(words): \(run.output)")
        }
        #expect(recorder.accepted() == 0, "a mistake connected to a host")

        // The same setup does connect when the command line is right: the recorder sees it.
        let right = await swiftfab(["uptime", "-H", "stage1", "--connect-timeout", "1", "-F", config])
        #expect(right.status != 0)
        #expect(recorder.accepted() == 1, "\(right.output)")
        // A directive that changes the route and that swiftfab does not carry out is said, not dropped.
        #expect(right.output.contains("warning: stage1: the ssh config sets BindAddress 127.0.0.1, which swiftfab does not support"), "\(right.output)")

        // A task's help names its options; so does `help TASK`.
        for words in [["deploy", "--help"], ["help", "deploy"]] {
            let help = await swiftfab(words)
            #expect(help.status == 0 && help.output.contains("--stage") && help.output.contains("--lock-wait SECONDS"), "\(help.output)")
        }
        // logs -f follows (the task's -f, not the Deployfile's).
        let follow = await swiftfab(["logs", "-f", "--dry-run", "-F", config])
        #expect(follow.status == 0 && follow.output.contains("tail -n 50 -F"), "\(follow.output)")
        // A dry run of a good revision plans it: the commit is named.
        let planned = await swiftfab(["deploy", "HEAD", "--dry-run", "-F", config])
        #expect(planned.status == 0 && planned.output.contains("release 20"), "\(planned.output)")
        #expect(recorder.accepted() == 0)
        await #expect(swiftfab(["-V"]).output.trimmingCharacters(in: .whitespacesAndNewlines) == SwiftFabVersion.current)
    }

    @Test func checkCatchesEachDeployfileMistake() async throws {
        let dir = try TempDir.make().path
        try """
            import SwiftFab

            let deployfile = Deployfile("mistakes") {
                Environment("production") { Host("web1", roles: .web) }
                Environment("empty") { }
                Task("uptime", "Show load") { Run("uptime") }
                Task("uptime", "Show load again") { Run("uptime") }
                Task("who", "Who is on") { Run("w \\(Settings["who_flags"])") }
                Task("migrate", "Migrate", on: .db) { Run("true") }
                Task("check", "Mine") { Run("true") }
                Task("greet", "Greet", arguments: "name") { arguments in Run("echo \\(arguments["name"])") }
                Task("go", "Go") { Invoke("gone") }
                Setting("who_flag", "-h")
                After("deploy:switch", run: "migrate")
                Before("uptime", run: "greet")
            }
            """.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let check = await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(dir)) && exec \(CLITests.binary) check"],
                                     environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache])
        #expect(check.status == 1, "\(check.output)")
        for expected in ["two tasks are named uptime", "a task may not be named check", "After(\"deploy:switch\", run: \"migrate\"): its target, deploy:switch, is not a task",
                         "greet needs arguments, which a hook cannot give", "no setting named who_flags in the Deployfile (did you mean who_flag?)",
                         "unknown task gone (invoked by go)", "the environment empty has no hosts", "task migrate runs on hosts with role db, and no host has it"] {
            #expect(check.output.contains(expected), "\(expected): \(check.output)")
        }
        // A run stops on the structural mistakes before doing anything.
        let run = await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(dir)) && exec \(CLITests.binary) uptime -e production --dry-run"],
                                   environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache])
        #expect(run.status == 1 && run.output.contains("the Deployfile has mistakes"), "\(run.output)")

        let clean = try TempDir.make().path
        try String(contentsOfFile: TestHosts.packageRoot + "/Deployfile.swift.example", encoding: .utf8)
            .write(toFile: clean + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let fine = await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(clean)) && exec \(CLITests.binary) check"],
                                    environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache])
        #expect(fine.status == 0 && fine.output.contains("Deployfile ok"), "\(fine.output)")

        // `check` takes the global options as any task does, before or after it.
        func swiftfab(_ words: [String], in folder: String) async -> (status: Int32, output: String) {
            await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(folder)) && exec " + Shell.join([CLITests.binary] + words)],
                                   environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache])
        }
        let elsewhere = try TempDir.make().path
        for (words, folder) in [(["-f", clean + "/Deployfile.swift", "check"], elsewhere), (["-e", "production", "check"], clean),
                                (["check", "-e", "sandbox", "-v"], clean), (["--file=\(clean)/Deployfile.swift", "-q", "check"], elsewhere)] {
            let checked = await swiftfab(words, in: folder)
            #expect(checked.status == 0 && checked.output.contains("Deployfile ok"), "\(words): \(checked.output)")
        }
        let named = await swiftfab(["-f", dir + "/Deployfile.swift", "check"], in: elsewhere)
        #expect(named.status == 1 && named.output.contains("two tasks are named uptime"), "\(named.output)")
        for (words, says) in [(["-e", "prodution", "check"], "no environment prodution in the Deployfile"), (["check", "extra"], "check takes no arguments"),
                              (["check", "--dry"], "check has no option --dry")] {
            let refused = await swiftfab(words, in: clean)
            #expect(refused.status == 64 && refused.output.contains(says), "\(words): \(refused.output)")
        }
    }
}
