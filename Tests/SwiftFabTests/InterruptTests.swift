import Foundation
import Testing
@testable import SwiftFab

/// Ctrl-C, SIGTERM and a lost connection, for real: the real `swiftfab`
/// and a Deployfile against sandbox hosts, a real signal at a chosen
/// moment, and the hosts' processes checked afterwards.
@Suite(.serialized, .sandbox) struct InterruptTests {
    var hosts: TestHosts { .shared }

    static let deployfile = """
        import Foundation
        import SwiftFab
        import SwiftFabRecipes

        let env = ProcessInfo.processInfo.environment
        let deployfile = Deployfile("interrupts") {
            Environment("test") { Host("th44", roles: .web); Host("th45", roles: .web) }
            Task("hang", "Sleeps on every host", arguments: "seconds") { arguments in
                Run("echo started; sleep \\(arguments["seconds"]) & sleep \\(arguments["seconds"]); echo never")
            }
            Task("flood", "Prints a word without end", arguments: "word") { arguments in
                Run("yes \\(arguments["word"])")
            }
            Task("session", "Names its sshd process a moment after it started (its guardian has heard of it by then), then sleeps", arguments: "seconds") { arguments in
                Run("sleep 1; echo session=$PPID; sleep \\(arguments["seconds"]) & sleep \\(arguments["seconds"]); echo never")
            }
        }
        """

    func project() throws -> String {
        let dir = try TempDir.make().path
        try Self.deployfile.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        return dir
    }

    /// A duration nobody else sleeps for, so its processes can be found on the hosts.
    static func uniqueSeconds() -> String { "300.\(Int.random(in: 100_000...999_999))" }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func aSignalStopsTheRemoteCommandsAndExits(signal: Int32, status: Int32) async throws {
        let seconds = Self.uniqueSeconds()
        let run = try RunningSwiftfab(["hang", seconds, "-F", hosts.sshConfig], in: try project())
        try await waitFor("both hosts to start") { run.output.components(separatedBy: "| started").count == 3 }
        // "started" comes just before the two sleeps begin: wait for them.
        try await waitFor("both sleeps on both hosts") { await RunningSwiftfab.processes(matching: "^sleep \(seconds)").count == 4 }
        run.send(signal)
        #expect(try await run.exitStatus() == status, "\(run.output)")
        #expect(run.output.contains("interrupted"), "\(run.output)")
        #expect(!run.output.contains("| never"))
        // Both sleeps on both hosts (the background one too: the whole process group) are gone.
        try await waitFor("the remote sleeps to end", seconds: 10) { await RunningSwiftfab.processes(matching: "^sleep \(seconds)").isEmpty }
    }

    @Test func execStopsOnCtrlCToo() async throws {
        let seconds = Self.uniqueSeconds()
        let run = try RunningSwiftfab(["exec", "-H", "th44", "-F", hosts.sshConfig, "--", "echo started; sleep \(seconds)"], in: try project())
        try await waitFor("the command to start") { run.output.contains("started") }
        run.send(SIGINT)
        #expect(try await run.exitStatus() == 130, "\(run.output)")
        try await waitFor("the remote sleep to end", seconds: 10) { await RunningSwiftfab.processes(matching: "^sleep \(seconds)").isEmpty }
    }

    /// `swiftfab ... | head`: the reader goes away while a host still prints.
    /// That is an interrupt (as SIGPIPE would be, but with the cleanup), not a
    /// crash: the remote command stops, the exit status is 141, stderr says why.
    /// SIGPIPE as a shell leaves it (default), not as the test runner does (ignored).
    @Test func aClosedOutputStopsTheRunLikeAnInterrupt() async throws {
        let word = "flood\(Int.random(in: 100_000...999_999))"
        let dir = try project()
        let script = "cd \(Shell.quote(dir)) && timeout 60 env --default-signal=PIPE " + Shell.join([CLITests.binary, "flood", word, "-H", "th44", "-F", hosts.sshConfig])
            + " 2>stderr.txt | head -n 3 >/dev/null; echo \"status=${PIPESTATUS[0]}\""
        let run = await Shell.runLocally(["/bin/bash", "-c", script], environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache])
        let stderr = (try? String(contentsOfFile: dir + "/stderr.txt", encoding: .utf8)) ?? ""
        #expect(run.output.contains("status=141"), "\(run.output)\n\(stderr)")
        #expect(stderr.contains("the output was closed"), "\(stderr)")
        #expect(!stderr.contains("Fatal error"), "\(stderr)")
        try await waitFor("the remote yes to end", seconds: 10) { await RunningSwiftfab.processes(matching: "^yes \(word)").isEmpty }
    }

    /// Ctrl-C at a passphrase prompt (echo off) exits at once, with echo back on.
    @Test func ctrlCAtAPassphrasePromptRestoresTheTerminal() async throws {
        let dir = try TempDir.make().path
        let (_, options) = try hosts.customConfig(hosts.block("pp", index: 47, identity: hosts.passphraseKey))
        let driver = dir + "/drive_prompt.py"
        try """
            import os, pty, select, sys, termios, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            seen, deadline = b"", time.time() + 30
            while b"passphrase" not in seen.lower() and time.time() < deadline:
                if select.select([fd], [], [], 0.5)[0]:
                    try: seen += os.read(fd, 4096)
                    except OSError: break
            muted = not termios.tcgetattr(fd)[3] & termios.ECHO
            os.write(fd, b"\\x03")
            _, status = os.waitpid(pid, 0)
            print("prompted=%s muted=%s echo=%s exit=%s" % (b"passphrase" in seen.lower(), muted,
                  bool(termios.tcgetattr(fd)[3] & termios.ECHO), os.waitstatus_to_exitcode(status)))
            """.write(toFile: driver, atomically: true, encoding: .utf8)
        let run = await Shell.runLocally(["/usr/bin/env", "-u", "SSH_AUTH_SOCK", "HOME=\(hosts.directory)/client-home", "/usr/bin/python3", driver,
                                    CLITests.binary, "exec", "-H", "pp", "-F", options.configFile!, "--", "true"])
        #expect(run.output.trimmingCharacters(in: .whitespacesAndNewlines) == "prompted=True muted=True echo=True exit=130", "\(run.output)")
    }

    @Test func aLostConnectionStopsWhatItStartedAndIsNeverReopened() async throws {
        let seconds = Self.uniqueSeconds()
        let run = try RunningSwiftfab(["session", seconds, "-H", "th44", "-F", hosts.sshConfig], in: try project())
        try await waitFor("the command to start") { run.output.contains("| session=") }
        let line = try #require(run.output.split(separator: "\n").first { $0.contains("| session=") })
        let pid = try #require(Int32(line.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)))
        // The connection dies with the sshd process serving it, as when a laptop loses its network.
        kill(pid, SIGKILL)
        #expect(try await run.exitStatus() == 1, "\(run.output)")
        #expect(run.output.contains("connection lost") || run.output.contains("connection was lost"), "\(run.output)")
        try await waitFor("the orphaned sleeps to end", seconds: 10) { await RunningSwiftfab.processes(matching: "^sleep \(seconds)").isEmpty }
    }

    /// A deploy cut off while its hook runs: the hook stops, the new slot
    /// stops, the lock is released, traffic never moved; then `logs --follow`
    /// cut off leaves no `tail -F` behind.
    @Test(.timeLimit(.minutes(3))) func aDeployCutOffDuringItsHookLeavesTheHostAsAFailureWould() async throws {
        let repo = try await BlueGreenTests.appRepository()
        let root = "/srv/int-\(UUID().uuidString.prefix(6).lowercased())"
        let seconds = Self.uniqueSeconds()
        let deployfile = """
            import Foundation
            import SwiftFab
            import SwiftFabRecipes

            let app = BlueGreenConfig(app: "shop", root: "\(root)",
                                      command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app",
                                      healthTimeout: 10,
                                      beforeSwitch: ProcessInfo.processInfo.environment["SLOW_HOOK"] == nil ? [] : ["echo hook-started; sleep \(seconds)"],
                                      runtime: .process)
            let deployfile = Deployfile("shop") {
                Environment("test") { Host("th46", roles: .web) }
                BlueGreen(app)
                Logs(ServerConfig(app: app))
            }
            """
        try deployfile.write(toFile: repo + "/Deployfile.swift", atomically: true, encoding: .utf8)
        await #expect(Shell.runLocally(["/bin/sh", "-c", "cd \(repo) && git add -A && git commit -qm 'Add Deployfile'"]).status == 0)
        func remote(_ script: String) async -> String {
            await Shell.runLocally(["/usr/bin/ssh", "-F", hosts.sshConfig, "th46", script]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let first = try RunningSwiftfab(["deploy", "-F", hosts.sshConfig], in: repo)
        #expect(try await first.exitStatus() == 0, "\(first.output)")
        let live = await remote("readlink \(root)/run/live.sock")

        await BlueGreenTests.commit(repo, version: "v1")
        let cut = try RunningSwiftfab(["deploy", "-v", "-F", hosts.sshConfig], in: repo, environment: ["SLOW_HOOK": "1"])
        try await cut.waitForOutput("| hook-started")
        cut.send(SIGINT)
        #expect(try await cut.exitStatus() == 130, "\(cut.output)")
        try await waitFor("the hook to end", seconds: 10) { await RunningSwiftfab.processes(matching: "^sleep \(seconds)").isEmpty }
        await #expect(remote("test -e \(root)/deploy.lock && echo held || echo free") == "free")
        await #expect(remote("readlink \(root)/run/live.sock") == live)
        await #expect(remote("curl -s --max-time 5 --unix-socket \(root)/run/live.sock http://localhost/version") == "v0")
        let idle = live == "blue.sock" ? "green" : "blue"
        await #expect(!remote("supervisorctl -c \(root)/run/supervisord.conf status shop-\(idle)").contains("RUNNING"))

        let logs = try RunningSwiftfab(["logs", "--follow", "-F", hosts.sshConfig], in: repo)
        _ = await remote("curl -s --unix-socket \(root)/run/live.sock http://localhost/version")
        try await waitFor("tail -F to run on the host") { await !RunningSwiftfab.processes(matching: "tail .*\(root)").isEmpty }
        logs.send(SIGINT)
        #expect(try await logs.exitStatus() == 130, "\(logs.output)")
        try await waitFor("tail -F to end", seconds: 10) { await RunningSwiftfab.processes(matching: "tail .*\(root)").isEmpty }
        _ = await remote("supervisorctl -c \(root)/run/supervisord.conf shutdown")
    }

    /// A restore cut off while its safety backup waits for a table lock: the
    /// app's writes start again, no half backup is left, pg_dump is gone,
    /// and the database is as it was.
    @Test(.timeLimit(.minutes(3))) func aRestoreCutOffStartsTheAppAgainAndLeavesNoHalfBackup() async throws {
        let cluster = try await PostgresCluster.start(hosts, index: 38, password: PostgresTests.password)
        defer { cluster.stopBlocking() }
        await cluster.populate("shop")
        let original = await cluster.checksums(PostgresTests.tables, database: "shop")
        let backups = "/srv/backups-shop-\(UUID().uuidString.prefix(6))"
        let pauseLog = "/srv/pause-\(UUID().uuidString.prefix(6))"
        let dir = try TempDir.make().path
        let deployfile = PostgresTests.deployfile.replacingOccurrences(
            of: "backups: env[\"PGT_BACKUPS\"]))",
            with: "backups: env[\"PGT_BACKUPS\"], pauseWrites: WritePause(\"the test app\", stop: \"echo stopped >> \(pauseLog)\", resume: \"echo resumed >> \(pauseLog)\")))")
        #expect(deployfile.contains("pauseWrites"))
        try deployfile.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let environment = ["PGT_HOST": cluster.alias, "PGT_IP": cluster.ip, "PGT_DB": "shop", "PGT_BACKUPS": backups,
                           "PGT_PASSWORD": PostgresTests.password]
        let backup = try RunningSwiftfab(["backup", "-F", hosts.sshConfig], in: dir, environment: environment)
        #expect(try await backup.exitStatus() == 0, "\(backup.output)")
        let name = try #require(PostgresTests.backupName(in: backup.output))

        // Another session holds a lock on a table (started detached on the host): the safety backup's pg_dump waits for it.
        let hold = "BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);"
        await #expect(cluster.remote("setsid -f \(PostgresCluster.bin)/psql -h \(cluster.dir) -p \(cluster.port) -U postgres -d shop -c \(Shell.quote(hold)) </dev/null >/dev/null 2>&1").status == 0)
        defer { cluster.sqlBlocking("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()") }
        try await waitFor("the lock to be held") {
            await cluster.sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'orders' AND l.mode = 'AccessExclusiveLock' AND l.granted", database: "shop") == "1"
        }

        let restore = try RunningSwiftfab(["restore", name, "--yes", "--stop-writes", "-F", hosts.sshConfig], in: dir, environment: environment)
        do {
            try await waitFor("pg_dump to wait for the lock") {
                await cluster.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'") == "1"
            }
        } catch {
            restore.send(SIGKILL)
            Issue.record("\(error): \(restore.output)\n\(await cluster.sql("SELECT application_name, state, wait_event_type, query FROM pg_stat_activity"))")
            return
        }
        restore.send(SIGINT)
        #expect(try await restore.exitStatus() == 130, "\(restore.output)")
        await #expect(cluster.remote("cat \(pauseLog)").output == "stopped\nresumed\n", "\(restore.output)")
        try await waitFor("pg_dump to end", seconds: 10) {
            await cluster.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump'") == "0"
        }
        let left = await cluster.remote("ls -a \(backups)").output.split(separator: "\n").map(String.init).filter { $0 != "." && $0 != ".." }
        #expect(left.sorted() == [name, name + ".sha256"], "\(left)")
        await cluster.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()")
        await #expect(cluster.checksums(PostgresTests.tables, database: "shop") == original)
    }
}
