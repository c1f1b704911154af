import Foundation
import Testing
@testable import SwiftFab

/// A run stopped at the edge of its work says what the host really holds:
/// the exit status, the summary and the host's history agree with the
/// database (committed or not) and with the proxy (switched or not).
extension InterruptTests {
    static let restoreIndex = 52  // a cluster of its own: PostgresCluster.start stops any other on its host
    static let switchIndex = 33

    /// The restore's own environment, a Deployfile for it, and a backup of the data as it was.
    private func restoreProject(_ cluster: PostgresCluster, extra: [String: String] = [:]) async throws
        -> (dir: String, environment: [String: String], backup: String, original: [String: String]) {
        await cluster.populate("shop")
        let original = await cluster.checksums(PostgresTests.tables, database: "shop")
        let dir = try TempDir.make().path
        try PostgresTests.deployfile.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let environment = ["PGT_HOST": cluster.alias, "PGT_IP": cluster.ip, "PGT_DB": "shop", "PGT_BACKUPS": "/srv/backups-shop-\(UUID().uuidString.prefix(6))",
                           "PGT_PASSWORD": PostgresTests.password].merging(extra) { _, new in new }
        let backup = try RunningSwiftfab(["backup", "-F", hosts.sshConfig], in: dir, environment: environment)
        #expect(try await backup.exitStatus() == 0, "\(backup.output)")
        let name = try #require(PostgresTests.backupName(in: backup.output))
        // After the backup the data changes: a restore that commits brings `original` back.
        await cluster.sql("UPDATE notes SET body = 'written after the backup' WHERE id = 1", database: "shop")
        #expect(await cluster.checksums(PostgresTests.tables, database: "shop") != original)
        return (dir, environment, name, original)
    }

    private func history(_ project: String, _ environment: [String: String]) async throws -> String {
        let history = try RunningSwiftfab(["history", "-F", hosts.sshConfig], in: project, environment: environment)
        #expect(try await history.exitStatus() == 0, "\(history.output)")
        return history.output
    }

    @Test(.timeLimit(.minutes(3))) func aRestoreStoppedBeforeItCommitsSaysTheDatabaseIsUnchanged() async throws {
        let cluster = try await PostgresCluster.start(hosts, index: Self.restoreIndex, password: PostgresTests.password)
        defer { cluster.stopBlocking() }
        let (dir, environment, name, _) = try await restoreProject(cluster)
        let changed = await cluster.checksums(PostgresTests.tables, database: "shop")
        // Another session holds a lock the restore's DROP must wait for (pg_dump's shared lock still gets through).
        let hold = "BEGIN; LOCK TABLE orders IN ACCESS SHARE MODE; SELECT pg_sleep(120);"
        await #expect(cluster.remote("setsid -f \(PostgresCluster.bin)/psql -h \(cluster.dir) -p \(cluster.port) -U postgres -d shop -c \(Shell.quote(hold)) </dev/null >/dev/null 2>&1").status == 0)
        defer { cluster.sqlBlocking("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()") }

        let restore = try RunningSwiftfab(["restore", name, "--yes", "-F", hosts.sshConfig], in: dir, environment: environment)
        try await waitFor("the restore to wait for the table lock") {
            await cluster.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'psql' AND wait_event_type = 'Lock'") == "1"
        }
        restore.send(SIGINT)
        #expect(try await restore.exitStatus() == 130, "\(restore.output)")
        #expect(restore.output.contains("interrupted before the restore committed: shop is unchanged (its transaction was rolled back)"), "\(restore.output)")
        #expect(restore.output.contains("✗ restore stopped in "), "\(restore.output)")
        #expect(!restore.output.contains("restored \(name)") && !restore.output.contains("✓ restore"), "\(restore.output)")
        // The restore's session is gone, and the data is what it was before the restore began.
        #expect(await cluster.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == "0")
        await #expect(cluster.checksums(PostgresTests.tables, database: "shop") == changed)
        let history = try await history(dir, environment)
        #expect(history.contains("stopped: ") && history.contains("before the restore committed"), "\(history)")
        #expect(!history.contains("shop from \(name)"), "\(history)")
    }

    @Test(.timeLimit(.minutes(3))) func aRestoreStoppedAfterItCommitsSaysWhatTheDatabaseHolds() async throws {
        let cluster = try await PostgresCluster.start(hosts, index: Self.restoreIndex, password: PostgresTests.password)
        defer { cluster.stopBlocking() }
        // The client tools run through a stand-in container engine that runs them here and, once psql
        // has committed and exited, holds the restore's command open until the test says so: the
        // moment between a commit and its report, made as long as the test needs (a psql -c query is never held).
        let tools = "/srv/tools-\(UUID().uuidString.prefix(6))"
        let engine = """
            #!/bin/sh
            shift 2
            while [ "$1" = -e ]; do case $2 in *=*) export "$2";; esac; shift 2; done
            shift; tool=$1; "$@"; status=$?
            case " $* " in *" -c "*) ;; *) if [ "$tool" = psql ] && [ -e \(tools)/hold ]; then while [ ! -e \(tools)/go ]; do sleep 0.05; done; fi;; esac
            exit $status
            """
        await #expect(cluster.remote("mkdir -p \(tools) && printf '%s\\n' \(Shell.quote(engine)) > \(tools)/engine && chmod 755 \(tools)/engine").status == 0)
        let (dir, environment, name, original) = try await restoreProject(cluster, extra: ["PGT_CONTAINER": "db", "PGT_ENGINE": tools + "/engine"])
        await #expect(cluster.remote("touch \(tools)/hold").status == 0)

        let restore = try RunningSwiftfab(["restore", name, "--yes", "-F", hosts.sshConfig], in: dir, environment: environment)
        try await waitFor("the restore to commit") {
            await cluster.checksums(PostgresTests.tables, database: "shop") == original
        }
        restore.send(SIGINT)
        #expect(try await restore.exitStatus() == 130, "\(restore.output)")
        #expect(restore.output.contains("interrupted after the restore committed: shop holds \(name) now"), "\(restore.output)")
        await #expect(cluster.checksums(PostgresTests.tables, database: "shop") == original)
        let history = try await history(dir, environment)
        #expect(history.contains("shop from \(name)") && history.contains("stopped: ") && history.contains("after the restore committed"), "\(history)")
        _ = await cluster.remote("rm -rf \(tools)")
    }

    @Test(.timeLimit(.minutes(3))) func aDeployStoppedAfterItsSwitchSaysTheNewReleaseIsLive() async throws {
        let repo = try await BlueGreenTests.appRepository()
        let root = "/srv/int-switch-\(UUID().uuidString.prefix(6).lowercased())"
        let ip = hosts.ip(Self.switchIndex), port = 18033
        let deployfile = """
            import Foundation
            import SwiftFab
            import SwiftFabRecipes

            let app = BlueGreenConfig(app: "shop", root: "\(root)",
                                      command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app",
                                      healthTimeout: 10, proxyCheckURL: ProcessInfo.processInfo.environment["PROXY_URL"], runtime: .process)
            let deployfile = Deployfile("shop") {
                Environment("test") { Host("th\(Self.switchIndex)", roles: .web) }
                BlueGreen(app)
            }
            """
        try deployfile.write(toFile: repo + "/Deployfile.swift", atomically: true, encoding: .utf8)
        await #expect(Shell.runLocally(["/bin/sh", "-c", "cd \(repo) && git add -A && git commit -qm 'Add Deployfile'"]).status == 0)
        func remote(_ script: String) async -> String {
            await Shell.runLocally(["/usr/bin/ssh", "-F", hosts.sshConfig, "th\(Self.switchIndex)", script]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let first = try RunningSwiftfab(["deploy", "-F", hosts.sshConfig], in: repo)
        #expect(try await first.exitStatus() == 0, "\(first.output)")
        #expect(await remote("readlink \(root)/run/live.sock") == "blue.sock")

        // The proxy the check asks accepts connections and never answers: the check is still running when the signal comes.
        _ = await remote("setsid -f nc -lk \(ip) \(port) </dev/null >/dev/null 2>&1")
        defer { _ = Shell.runLocallyBlocking(["/usr/bin/ssh", "-F", hosts.sshConfig, "th\(Self.switchIndex)", "pkill -f '^nc -lk \(ip) \(port)'"]) }
        await BlueGreenTests.commit(repo, version: "v1")
        let cut = try RunningSwiftfab(["deploy", "-v", "-F", hosts.sshConfig], in: repo, environment: ["PROXY_URL": "http://\(ip):\(port)/version"])
        try await cut.waitForOutput("the new slot does not answer")  // the check's own text, shown as it starts
        cut.send(SIGINT)
        #expect(try await cut.exitStatus() == 130, "\(cut.output)")
        #expect(cut.output.contains("interrupted after the switch: slot green runs ") && cut.output.contains("✗ deploy stopped in "), "\(cut.output)")
        // The host serves the new release, unlocked; its history says so.
        #expect(await remote("readlink \(root)/run/live.sock") == "green.sock")
        #expect(await remote("curl -s --max-time 5 --unix-socket \(root)/run/live.sock http://localhost/version") == "v1")
        #expect(await remote("test -e \(root)/deploy.lock && echo held || echo free") == "free")
        let history = try RunningSwiftfab(["history", "-F", hosts.sshConfig], in: repo)
        #expect(try await history.exitStatus() == 0, "\(history.output)")
        #expect(history.output.contains("live: shop ") && history.output.contains("stopped: ") && history.output.contains("after the switch"), "\(history.output)")
        _ = await remote("supervisorctl -c \(root)/run/supervisord.conf shutdown >/dev/null 2>&1; rm -rf \(root)")
    }

    /// A signal that stops nothing (the last command had ended; only the task's
    /// own code was left) leaves a finished run: exit 0, and it says so. A
    /// command asked for after the signal is not started (exit 130), also when
    /// the task tolerates its failure: something was stopped all the same.
    @Test(.timeLimit(.minutes(2))) func aSignalThatStopsNothingLeavesAFinishedRun() async throws {
        let dir = try TempDir.make().path
        let marker = dir + "/go"
        let deployfile = """
            import Foundation
            import SwiftFab

            let env = ProcessInfo.processInfo.environment
            let deployfile = Deployfile("late") {
                Environment("test") { Host("th44", roles: .web) }
                Task("late", "Runs a command, then waits here for a file; with THEN, runs another") { _ in
                    Dynamic("wait after the last command") { host in
                        _ = try await host.run(Command("echo", "first-done"))
                        host.note("the first command is over")
                        while !FileManager.default.fileExists(atPath: \(String(reflecting: marker))) { try await _Concurrency.Task.sleep(for: .milliseconds(20)) }
                        switch env["THEN"] {
                        case "run"?: _ = try await host.run(Command("echo", "second-ran"))
                        case "tolerate"?: _ = try? await host.run(Command("echo", "second-ran"))
                        default: break
                        }
                    }
                }
            }
            """
        try deployfile.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        for then in ["", "run", "tolerate"] {
            try? FileManager.default.removeItem(atPath: marker)
            let run = try RunningSwiftfab(["late", "-v", "-F", hosts.sshConfig], in: dir, environment: then.isEmpty ? [:] : ["THEN": then])
            try await run.waitForOutput("the first command is over")
            run.send(SIGINT)
            try await waitFor("the signal to be heard") { run.output.contains("Ctrl-C") }
            FileManager.default.createFile(atPath: marker, contents: nil)
            if then == "run" {
                #expect(try await run.exitStatus() == 130, "\(run.output)")
                #expect(!run.output.contains("| second-ran") && run.output.contains("and the steps after it were not started"), "\(run.output)")
            } else if then == "tolerate" {
                #expect(try await run.exitStatus() == 130, "\(run.output)")
                #expect(!run.output.contains("| second-ran") && !run.output.contains("nothing was stopped"), "\(run.output)")
                #expect(run.output.contains("Ctrl-C stopped a step that the task went on without, so the run counts as stopped"), "\(run.output)")
            } else {
                #expect(try await run.exitStatus() == 0, "\(run.output)")
                #expect(run.output.contains("Ctrl-C came as the run was ending; every step had finished, so nothing was stopped"), "\(run.output)")
                #expect(run.output.contains("✓ late done"), "\(run.output)")
            }
        }
    }

    /// Cleanup is not cut short by the first signal (the resume after a
    /// restore's write pause once was, and was then reported as not done).
    @Test(.timeLimit(.minutes(2))) func cleanupThatRunsWhenTheSignalComesRunsToItsEnd() async throws {
        let dir = try TempDir.make().path
        let marker = dir + "/go"
        let deployfile = """
            import Foundation
            import SwiftFab

            let deployfile = Deployfile("cleanup") {
                Environment("test") { Host("th44", roles: .web) }
                Task("tidy", "Runs a cleanup command that waits for a file on the host") { _ in
                    Dynamic("clean up") { host in
                        let wait = "echo cleanup-started; while [ ! -e \(marker) ]; do sleep 0.05; done; echo cleanup-ended"
                        let result = try await host.run(Command(shell: .raw(wait)).asCleanup())
                        host.note("cleanup exit \\(result.exitStatus)")
                    }
                }
            }
            """
        try deployfile.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let run = try RunningSwiftfab(["tidy", "-v", "-F", hosts.sshConfig], in: dir)
        try await run.waitForOutput("| cleanup-started")
        run.send(SIGINT)
        try await waitFor("the signal to be heard") { run.output.contains("Ctrl-C") }
        FileManager.default.createFile(atPath: marker, contents: nil)
        // The task's code ran to its end; the signal stopped nothing.
        #expect(try await run.exitStatus() == 0, "\(run.output)")
        #expect(run.output.contains("| cleanup-ended") && run.output.contains("cleanup exit 0"), "\(run.output)")
    }
}
