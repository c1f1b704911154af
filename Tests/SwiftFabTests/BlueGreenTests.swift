import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// Blue/green deploys on a sandbox host with real nginx, gunicorn and
/// supervisord, under real HTTP load: no request may fail.
@Suite(.serialized, .sandbox) struct BlueGreenTests {
    var hosts: TestHosts { .shared }
    static let index = 24
    var ip: String { hosts.ip(Self.index) }

    /// The example app as a git repository, one commit per version.
    static func appRepository() async throws -> String {
        let dir = try TempDir.make().path
        let app = TestHosts.packageRoot + "/examples/shop"
        let script = """
            set -e
            cd \(Shell.quote(dir)) && git init -q -b main . && git config user.email ci@example.com && git config user.name CI
            cp \(Shell.quote(app))/app.py . && echo v0 > VERSION && git add -A && git commit -qm v0
            """
        let status = await Shell.runLocally(["/bin/sh", "-c", script]).status
        #expect(status == 0)
        return dir
    }

    static func commit(_ repo: String, version: String, broken: Bool = false) async {
        let script = "cd \(Shell.quote(repo)) && echo \(version) > VERSION && " + (broken ? "touch BROKEN && " : "rm -f BROKEN && ")
            + "git add -A && git commit -qm \(version)"
        let status = await Shell.runLocally(["/bin/sh", "-c", script]).status
        #expect(status == 0)
    }

    /// nginx inside the host's namespace, proxying to the app's live socket.
    func startProxy(_ connection: SSHConnection, layout: AppLayout, port: Int, ip: String? = nil, upstream: String? = nil) async throws {
        let server = "upstream app { server unix:\(upstream ?? layout.run + "/live.sock"); }\n"
            + "server { listen \(ip ?? self.ip):\(port); location / { proxy_pass http://app; } }"
        try await startNginx(connection, in: "/srv/nginx-test", servers: server)
    }

    /// nginx with its state in `dir`, serving `servers` (upstream and server blocks).
    func startNginx(_ connection: SSHConnection, in dir: String, servers: String) async throws {
        let conf = """
            worker_processes 2;
            pid \(dir)/nginx.pid;
            error_log \(dir)/error.log;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(dir)/body; proxy_temp_path \(dir)/proxy;
                fastcgi_temp_path \(dir)/fastcgi; uwsgi_temp_path \(dir)/uwsgi; scgi_temp_path \(dir)/scgi;
                \(servers)
            }
            """
        let result = try await connection.run(Command(shell: "mkdir -p \(dir) && printf '%s\\n' \(conf) > \(dir)/nginx.conf && nginx -t -c \(dir)/nginx.conf 2>&1 && nginx -c \(dir)/nginx.conf"))
        #expect(result.succeeded, "\(result.stdoutText)\(result.stderrText)")
    }

    @Test(.timeLimit(.minutes(3))) func deploysAndRollbackUnderLoadDropNothing() async throws {
        let repo = try await Self.appRepository()
        let repository = try GitRepository(discoveringFrom: repo)
        let root = "/srv/shop-\(UUID().uuidString.prefix(6).lowercased())"
        let layout = AppLayout(app: "shop", root: root)
        let config = BlueGreenConfig(app: "shop", root: root, command: "/usr/bin/python3 -m gunicorn --workers 2 --bind unix:{socket} app:app",
                                     healthTimeout: 8, keepReleases: 3, repository: repo, proxyCheckURL: "http://\(ip):8080/version",
                                     runtime: .process)
        let deployer = BlueGreenDeployer(config: config)
        try await hosts.withConnection("th\(Self.index)") { connection in
            try await startProxy(connection, layout: layout, port: 8080)
            // v0 first, without load: before it nothing can answer.
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            #expect(LoadGenerator.request(host: ip, port: 8080, path: "/version").body == "v0")

            let load = LoadGenerator(host: ip, port: 8080, path: "/version")
            var marks: [(String, Double)] = []
            func mark(_ name: String) { marks.append((name, Date().timeIntervalSince1970)) }
            try await load.waitForSamples(100)   // traffic flows before anything changes
            mark("v1 start")
            await Self.commit(repo, version: "v1")
            let v1 = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            mark("v1 live")
            await Self.commit(repo, version: "v2")
            let v2 = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            mark("v2 live")
            let rollbackStart = monotonicNow()
            let rollbackNotes = PostgresTests.Notes()
            let back = try await deployer.rollback(on: connection, deployer: "ci", note: { rollbackNotes.add($0) })
            let rollbackSeconds = monotonicNow() - rollbackStart
            mark("rolled back")
            await Self.commit(repo, version: "v3", broken: true)
            await #expect(throws: SwiftFabError.self) {
                _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            }
            try await load.waitForSamples(100)   // and after the refused deploy, still only v1
            mark("v3 refused")
            let samples = await load.stop()

            print("blue/green under load: \(samples.count) requests in \(String(format: "%.1f", samples.last!.time - samples.first!.time))s, "
                  + "\(samples.filter { $0.status != 200 }.count) failed, versions \(Set(samples.map(\.body)).sorted()), warm rollback \(String(format: "%.3f", rollbackSeconds))s, "
                  + "phases \(zip(marks, marks.dropFirst()).map { "\($1.0): \(String(format: "%.1f", $1.1 - $0.1))s" })")
            // Every request answered 200, and requests kept coming through every phase (how many a second is bench/'s to measure).
            let failed = samples.filter { $0.status != 200 }
            #expect(failed.isEmpty, "\(failed.count) failed, e.g. \(failed.prefix(3).map { "\($0.status) \($0.body)" })")
            for (from, to) in zip(marks, marks.dropFirst()) {
                #expect(samples.contains { $0.time > from.1 && $0.time < to.1 }, "no request between \(from.0) and \(to.0)")
            }
            // Versions over time: each phase serves only what it may, and v3 never.
            #expect(!samples.contains { $0.body == "v3" })
            func versions(_ from: String, _ to: String) -> Set<String> {
                let start = marks.first { $0.0 == from }!.1, end = marks.first { $0.0 == to }!.1
                return Set(samples.filter { $0.time > start && $0.time < end }.map(\.body))
            }
            #expect(versions("v1 start", "v1 live").isSubset(of: ["v0", "v1"]))
            #expect(versions("v1 live", "v2 live").isSubset(of: ["v1", "v2"]))
            #expect(versions("v2 live", "rolled back").isSubset(of: ["v2", "v1"]))
            #expect(versions("rolled back", "v3 refused") == ["v1"])
            #expect(v1.slot == v2.previous && back.slot == v1.slot && back.release == v1.release)
            // Warm: the slot still ran the previous release, so nothing was started (how fast it is, bench/ measures).
            #expect(!rollbackNotes.lines.contains { $0.contains("is cold") }, "\(rollbackNotes.lines)")
            // The lock is released, and the failed v3 slot is stopped.
            #expect(!(try await connection.run(Command("test", "-e", layout.lock))).succeeded)
            _ = try await connection.run(.raw("nginx -c /srv/nginx-test/nginx.conf -s quit; supervisorctl -c \(root)/run/supervisord.conf shutdown"))
        }
    }

    /// A proxy that does not follow the switch (here: pinned to the blue socket) is caught by the
    /// check through the proxy: traffic goes back to the slot that was live, and the deploy fails.
    @Test(.timeLimit(.minutes(2))) func aProxyThatServesTheOldReleaseFailsTheDeploy() async throws {
        let repo = try await Self.appRepository()
        let repository = try GitRepository(discoveringFrom: repo)
        let root = "/srv/pinned-\(UUID().uuidString.prefix(6).lowercased())"
        let layout = AppLayout(app: "shop", root: root)
        let ip = hosts.ip(11)
        let deployer = BlueGreenDeployer(config: BlueGreenConfig(app: "shop", root: root,
            command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app", healthTimeout: 8, repository: repo,
            proxyCheckURL: "http://\(ip):8082/version", runtime: .process))
        try await hosts.withConnection("th11") { connection in
            try await startProxy(connection, layout: layout, port: 8082, ip: ip, upstream: layout.run + "/blue.sock")
            let first = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            #expect(first.slot == .blue)
            await Self.commit(repo, version: "v1")
            do {
                _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
                Issue.record("the deploy should have failed: the proxy still serves v0")
            } catch let error as SwiftFabError {
                #expect(error.message.contains("answers \"v0\", the new release answers \"v1\"") && error.message.contains("switched back to slot blue"),
                        "\(error.message)")
            }
            let live = try await connection.run(.raw("readlink \(root)/run/live.sock")).stdoutText
            #expect(live == "blue.sock\n")
            #expect(!(try await connection.run(Command("test", "-e", layout.lock))).succeeded)
            _ = try await connection.run(.raw("nginx -c /srv/nginx-test/nginx.conf -s quit; supervisorctl -c \(root)/run/supervisord.conf shutdown"))
        }
    }

    /// Caddy in front instead of nginx: the same symlink switch, no reload, nothing dropped.
    @Test(.timeLimit(.minutes(3))) func caddyInFrontDropsNothingEither() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/caddy"), "caddy is missing: scripts/setup-sandbox installs it")
        let repo = try await Self.appRepository()
        let repository = try GitRepository(discoveringFrom: repo)
        let root = "/srv/caddyshop-\(UUID().uuidString.prefix(6).lowercased())"
        let ip = hosts.ip(17), dir = "/srv/caddy-test"
        let deployer = BlueGreenDeployer(config: BlueGreenConfig(app: "shop", root: root,
            command: "/usr/bin/python3 -m gunicorn --workers 2 --bind unix:{socket} app:app", healthTimeout: 8, repository: repo,
            proxyCheckURL: "http://\(ip):8081/healthz", runtime: .process))
        // keepalive off: each proxied request dials live.sock anew, so a switch applies at once to any app server.
        let caddyfile = """
            {
                admin off
                auto_https off
            }
            http://\(ip):8081 {
                reverse_proxy unix/\(root)/run/live.sock {
                    transport http {
                        keepalive off
                    }
                }
            }
            """
        try await hosts.withConnection("th17") { connection in
            let started = try await connection.run(Command(shell: """
                mkdir -p \(dir) && printf '%s\\n' \(caddyfile) > \(dir)/Caddyfile || exit 1; \
                { HOME=\(dir) XDG_CONFIG_HOME=\(dir) XDG_DATA_HOME=\(dir) exec setsid caddy run --config \(dir)/Caddyfile --adapter caddyfile; } \
                  > \(dir)/caddy.log 2>&1 < /dev/null & \
                for i in $(seq 50); do curl -s -o /dev/null http://\(ip):8081/ && exit 0; sleep 0.1; done; cat \(dir)/caddy.log; exit 1
                """))
            #expect(started.succeeded, "\(started.stdoutText)")
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            let load = LoadGenerator(host: ip, port: 8081, path: "/version")
            try await load.waitForSamples(100)
            await Self.commit(repo, version: "v1")
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            _ = try await deployer.rollback(on: connection, deployer: "ci")
            let rolledBack = Date().timeIntervalSince1970
            try await load.waitForSamples(100, since: rolledBack + 0.05)
            let samples = await load.stop()
            _ = try await connection.run(.raw("pkill -f \(dir)/Caddyfile; supervisorctl -c \(root)/run/supervisord.conf shutdown"))
            let failed = samples.filter { $0.status != 200 }
            #expect(failed.isEmpty, "\(failed.count) of \(samples.count) failed, e.g. \(failed.prefix(3).map { "\($0.status) \($0.body)" })")
            #expect(Set(samples.map(\.body)) == ["v0", "v1"])
            // After the rollback returned, only v0 answers.
            #expect(Set(samples.filter { $0.time > rolledBack + 0.05 }.map(\.body)) == ["v0"])
        }
    }

    @Test(.timeLimit(.minutes(3))) func recipeTasksThroughTheCommandLine() async throws {
        let repo = try await Self.appRepository()
        let root = "/srv/shop-\(UUID().uuidString.prefix(6).lowercased())"
        let envFile = try TempDir.make().path + "/shop.env"
        let greeting = "hi-from-env-\(UUID().uuidString.prefix(6))"
        try "GREETING=\(greeting)\nDATABASE_PASSWORD='p a s s'\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let deployfile = """
            import SwiftFab
            import SwiftFabRecipes

            let deployfile = Deployfile("shop") {
                Environment("test") { Host("th25", roles: .web) }
                BlueGreen(BlueGreenConfig(app: "shop", root: "\(root)",
                                          command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app",
                                          healthTimeout: 10,
                                          beforeSwitch: ["/usr/bin/python3 -c 'import app' && echo \\"$SWIFTFAB_RELEASE\\" >> \\"$SWIFTFAB_SHARED/hooks.log\\""],
                                          warmupRequests: 20, envFile: "\(envFile)", runtime: .process))
            }
            """
        try deployfile.write(toFile: repo + "/Deployfile.swift", atomically: true, encoding: .utf8)
        await #expect(Shell.runLocally(["/bin/sh", "-c", "cd \(repo) && git add -A && git commit -qm 'Add Deployfile'"]).status == 0)
        func swiftfab(_ arguments: String...) async -> (status: Int32, output: String) {
            await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(repo)) && exec " + Shell.join([CLITests.binary] + arguments + ["-F", hosts.sshConfig])],
                             environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache])
        }
        /// What a pipe gets: standard output alone.
        func stdout(_ arguments: String...) async -> [String] {
            await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(repo)) && exec " + Shell.join([CLITests.binary] + arguments + ["-F", hosts.sshConfig]) + " 2>/dev/null"],
                             environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache]).output.split(separator: "\n").map(String.init)
        }
        let list = await swiftfab("--list")
        for task in ["deploy", "rollback", "releases", "status", "unlock"] { #expect(list.output.contains("  \(task) "), "\(list.output)") }
        // The dry run runs the deploy's own code against nothing: a line per step, the exact shell with -v.
        let plan = await swiftfab("deploy", "--dry-run")
        #expect(plan.status == 0, "\(plan.output)")
        for expected in ["release 20", "Add Deployfile", "upload release.tar", "(assuming slot blue is live)", "switch traffic: live.sock -> green.sock",
                         "remove what an interrupted deploy left", "delete 2 old releases", "release the deploy lock"] {
            #expect(plan.output.contains(expected), "\(expected): \(plan.output)")
        }
        let exact = await swiftfab("deploy", "--dry-run", "-v")
        for expected in ["mv -T", "--unix-socket", "ln -sfn green.sock", "SWIFTFAB_SLOT=green sh -c", "rm -rf -- \(root)/releases/20261114T090000Z-1111111"] {
            #expect(exact.output.contains(expected), "\(expected): \(exact.output)")
        }
        #expect(!plan.output.contains(greeting) && !plan.output.contains("p a s s") && !exact.output.contains(greeting))
        let rollbackPlan = await swiftfab("rollback", "--dry-run", "-v").output
        #expect(rollbackPlan.contains("ln -sfn green.sock") && rollbackPlan.contains("run/previous"), "\(rollbackPlan)")
        await #expect(swiftfab("promote", "--dry-run", "-v").output.contains("run/staged"))
        await #expect(Shell.runLocally(["/usr/bin/ssh", "-F", hosts.sshConfig, "th25", "test -e \(root) && echo exists || echo absent"]).output.contains("absent"))

        let first = await swiftfab("deploy")
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("deployed ") && first.output.contains("in slot blue"))
        #expect(first.output.contains("warmed slot blue with 20 requests"))
        func remote(_ script: String) async -> String {
            await Shell.runLocally(["/usr/bin/ssh", "-F", hosts.sshConfig, "th25", script]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        await #expect(remote("wc -l < \(root)/shared/hooks.log") == "1")
        // The env file reached the slot's environment, privately, and never the output.
        // Each release keeps its own copy, 0600: the live slot never reads a newer deploy's values.
        await #expect(remote("stat -c %a \(root)/releases/$(cat \(root)/run/blue.release)/.swiftfab.env") == "600")
        await #expect(remote("curl -s --unix-socket \(root)/run/live.sock http://localhost/greeting") == greeting)
        #expect(!first.output.contains(greeting))

        // A dirty tree is refused, naming the files; --allow-dirty deploys the last commit anyway.
        try "v1-uncommitted\n".write(toFile: repo + "/VERSION", atomically: true, encoding: .utf8)
        let dirty = await swiftfab("deploy")
        #expect(dirty.status == 1 && dirty.output.contains("uncommitted changes: VERSION") && dirty.output.contains("--allow-dirty"))
        await #expect(swiftfab("deploy", "--allow-dirty").status == 0)

        await Self.commit(repo, version: "v1")
        let second = await swiftfab("deploy")
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("changes since the live release") && second.output.contains(" v1 (CI <ci@example.com>)"))

        let releases = await swiftfab("releases")
        #expect(releases.output.contains("LIVE (blue)") && releases.output.contains("standby (green)"), "\(releases.output)")
        #expect(releases.output.contains(" v1 by "))
        // The rollback target (run/previous) is marked, and only it; a pipe gets the listing alone, a line per release.
        let target = await remote("cat \(root)/run/previous")
        let listed = await stdout("releases")
        #expect(listed.filter { $0.contains("rollback target") } == listed.filter { $0.hasPrefix(target + " ") } && !target.isEmpty, "\(listed)")
        #expect(listed.filter { $0.contains("rollback target") }.count == 1 && listed.allSatisfy { $0.hasPrefix("20") }, "\(listed)")
        await #expect(String(listed.count) == remote("ls \(root)/releases | wc -l"))

        let back = await swiftfab("rollback")
        #expect(back.status == 0 && back.output.contains("rolled back to"), "\(back.output)")
        let status = await swiftfab("status").output
        #expect(status.contains("live: slot green") && status.contains("shop-green") && status.contains("RUNNING"), "\(status)")
        // A stopped slot is said as such; supervisord itself runs.
        _ = await remote("supervisorctl -c \(root)/run/supervisord.conf stop shop-blue")
        let stopped = await stdout("status")
        #expect(stopped.contains { $0.hasPrefix("shop-blue ") && $0.contains("STOPPED") } && stopped.contains { $0.hasPrefix("shop-green ") && $0.contains("RUNNING") },
                "\(stopped)")
        #expect(stopped.first == "live: slot green" && !stopped.contains { $0.contains("not running") }, "\(stopped)")
        _ = await remote("supervisorctl -c \(root)/run/supervisord.conf start shop-blue")

        // To any kept release: -1 (the one before the live one, cold: started and checked first), then one by name.
        let v1Release = await remote("cat \(root)/run/previous")
        let older = await swiftfab("rollback", "-1")
        #expect(older.status == 0 && older.output.contains("slot blue is cold: starting"), "\(older.output)")
        await #expect(remote("curl -s --unix-socket \(root)/run/live.sock http://localhost/version") == "v0")
        let named = await swiftfab("rollback", v1Release)
        #expect(named.status == 0 && named.output.contains("rolled back to \(v1Release)"), "\(named.output)")
        await #expect(remote("curl -s --unix-socket \(root)/run/live.sock http://localhost/version") == "v1")
        let unknown = await swiftfab("rollback", "20200101T000000Z-abcdef0")
        #expect(unknown.status == 1 && unknown.output.contains("release 20200101T000000Z-abcdef0 is not kept on this host; nothing was changed"), "\(unknown.output)")
        await #expect(remote("readlink \(root)/run/live.sock") == "green.sock")

        // A held lock names its holder; unlock clears it.
        let hold = "mkdir -p \(root)/deploy.lock && printf 'someone@else\\nabc1234\\nyesterday\\n' > \(root)/deploy.lock/holder"
        await #expect(Shell.runLocally(["/usr/bin/ssh", "-F", hosts.sshConfig, "th25", hold]).status == 0)
        let locked = await swiftfab("deploy")
        #expect(locked.status == 1 && locked.output.contains("another deploy holds the lock: someone@else (revision abc1234, since yesterday)"))
        await #expect(swiftfab("unlock").output.contains("removing the lock of: someone@else"))
        await #expect(swiftfab("deploy").status == 0)

        // Stage: the new release runs, healthy, beside the live one; promote moves traffic.
        await Self.commit(repo, version: "v2")
        let liveBefore = await remote("readlink \(root)/run/live.sock")
        let staged = await swiftfab("deploy", "--stage")
        #expect(staged.status == 0 && staged.output.contains("staged "), "\(staged.output)")
        await #expect(remote("readlink \(root)/run/live.sock") == liveBefore)
        let stagedSocket = liveBefore == "blue.sock" ? "green.sock" : "blue.sock"
        await #expect(remote("curl -s --unix-socket \(root)/run/\(stagedSocket) http://localhost/version") == "v2")
        let promoted = await swiftfab("promote")
        #expect(promoted.status == 0 && promoted.output.contains("promoted "), "\(promoted.output)")
        await #expect(remote("readlink \(root)/run/live.sock") == stagedSocket)
        await #expect(swiftfab("promote").output.contains("nothing is staged"))

        let live = await remote("readlink \(root)/run/live.sock").replacingOccurrences(of: ".sock", with: "")
        let idle = live == "blue" ? "green" : "blue"

        // A damaged rollback pointer stops the rollback before anything changes: the standby keeps running.
        let previous = await remote("cat \(root)/run/previous")
        _ = await remote("printf '20260101T000000Z-abc' > \(root)/run/previous")
        let refused = await swiftfab("rollback")
        #expect(refused.status == 1 && refused.output.contains("which is not a release name; nothing was changed"), "\(refused.output)")
        await #expect(remote("readlink \(root)/run/live.sock") == live + ".sock")
        await #expect(remote("supervisorctl -c \(root)/run/supervisord.conf status shop-\(idle)").contains("RUNNING"))
        _ = await remote("echo \(previous) > \(root)/run/previous")

        // A deploy that fails with a new env file leaves the live slot's environment alone, even across a restart.
        try "GREETING=changed-by-a-failed-deploy\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        // The idle slot cannot bind its socket (a directory is in the way): its health check fails.
        _ = await remote("supervisorctl -c \(root)/run/supervisord.conf stop shop-\(idle); rm -f \(root)/run/\(idle).sock; mkdir -p \(root)/run/\(idle).sock/blocked")
        let failed = await swiftfab("deploy")
        #expect(failed.status == 1 && failed.output.contains("failed its health check"), "\(failed.output)")
        #expect(!failed.output.contains("changed-by-a-failed-deploy"))
        // supervisorctl returns once the app is spawned, before it listens: wait for its answer.
        _ = await remote("rm -rf \(root)/run/\(idle).sock; supervisorctl -c \(root)/run/supervisord.conf restart shop-\(live); "
                         + "for i in $(seq 100); do curl -fs --unix-socket \(root)/run/live.sock http://localhost/healthz >/dev/null && break; sleep 0.1; done")
        await #expect(remote("curl -s --max-time 5 --unix-socket \(root)/run/live.sock http://localhost/greeting") == greeting)

        _ = await remote("supervisorctl -c \(root)/run/supervisord.conf shutdown")
    }

    @Test(.timeLimit(.minutes(3))) func aHostThatFailsStopsTheRolloutAndKeepsItsTraffic() async throws {
        let repo = try await Self.appRepository()
        let root = "/srv/roll-\(UUID().uuidString.prefix(6).lowercased())"
        let deployfile = """
            import SwiftFab
            import SwiftFabRecipes

            let app = BlueGreenConfig(app: "shop", root: "\(root)", command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app",
                                      healthTimeout: 4, runtime: .process)
            let deployfile = Deployfile("shop", history: "\(root)/history.log") {
                Environment("three") { Host("th27", roles: .web); Host("th28", roles: .web); Host("th29", roles: .web) }
                BlueGreen(app)
                Doctor(ServerConfig(app: app))
            }
            """
        try deployfile.write(toFile: repo + "/Deployfile.swift", atomically: true, encoding: .utf8)
        await #expect(Shell.runLocally(["/bin/sh", "-c", "cd \(repo) && git add -A && git commit -qm 'Add Deployfile'"]).status == 0)
        func swiftfab(_ arguments: String...) async -> (status: Int32, output: String) {
            await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(repo)) && exec " + Shell.join([CLITests.binary] + arguments + ["-F", hosts.sshConfig])],
                             environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache])
        }
        func remote(_ host: String, _ script: String) async -> String {
            await Shell.runLocally(["/usr/bin/ssh", "-F", hosts.sshConfig, host, script]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func served(_ host: String) async -> String { await remote(host, "curl -s --max-time 2 --unix-socket \(root)/run/live.sock http://localhost/version") }

        let first = await swiftfab("deploy")
        #expect(first.status == 0, "\(first.output)")
        for host in ["th27", "th28", "th29"] { await #expect(served(host) == "v0") }

        // th28's idle slot cannot bind its socket (a directory is in the way): the app dies at once, so
        // the start fails (the program is already down when its status is read) or the health check does.
        await Self.commit(repo, version: "v1")
        let idle = await remote("th28", "readlink \(root)/run/live.sock") == "blue.sock" ? "green" : "blue"
        _ = await remote("th28", "mkdir -p \(root)/run/\(idle).sock/blocked")
        let second = await swiftfab("deploy")
        #expect(second.status == 1)
        #expect(second.output.contains("th28  failed") && (second.output.contains("failed its health check")
                                                             || second.output.contains("did not start in slot")), "\(second.output)")
        #expect(second.output.contains("th29  skipped") && second.output.contains("not started: an earlier host failed"))
        await #expect(served("th27") == "v1")   // done before the failure
        await #expect(served("th28") == "v0")   // kept its traffic
        await #expect(served("th29") == "v0")   // never touched
        await #expect(remote("th29", "ls \(root)/releases | wc -l") == "1")
        // The report ends with what every host serves now.
        func liveLine(_ host: String) -> String {
            second.output.split(separator: "\n").last { $0.contains(host) && $0.contains("live: ") }.map(String.init) ?? "none"
        }
        #expect(liveLine("th27").hasSuffix(" v1)"), "\(second.output)")
        for host in ["th28", "th29"] { #expect(liveLine(host).hasSuffix(" Add Deployfile)"), "\(second.output)") }

        // The hosts' history says who did what where, newest first: th28's failure, th27's deploy, then the first rollout.
        let history = await swiftfab("history", "-n", "4")
        let rows = history.output.split(separator: "\n").filter { $0.contains("  deploy ") }.map(String.init)
        #expect(history.status == 0 && rows.count == 4, "\(history.output)")
        #expect(rows.first?.contains("th28") == true && rows.first?.contains("failed: ") == true, "\(history.output)")
        #expect(rows.dropFirst().first?.contains("th27") == true && rows.dropFirst().first?.contains("live: shop 20") == true, "\(history.output)")
        #expect(rows.allSatisfy { $0.contains(" by ") && $0.contains("  deploy  ") }, "\(history.output)")
        await #expect(remote("th27", "stat -c %a \(root)/history.log; wc -l < \(root)/history.log") == "600\n2")
        await #expect(swiftfab("history", "-n", "0").status == 64)
        // doctor sees that the hosts disagree about what is live, and says how to bring them together.
        let doctor = await swiftfab("doctor")
        func liveRevision(_ host: String) async -> String {
            await String(remote(host, "cd \(root) && cat releases/$(cat run/$(readlink run/live.sock | sed 's/[.]sock$//').release)/REVISION").prefix(7))
        }
        let v1 = await liveRevision("th27"), v0 = await liveRevision("th28")
        #expect(doctor.output.contains("warning: hosts disagree about what is live: \(v1) on th27; \(v0) on th28, th29"), "\(doctor.output)")
        #expect(doctor.output.contains("to finish the rollout: swiftfab deploy \(v1); to undo it: swiftfab rollback -H th27"), "\(doctor.output)")
        for host in ["th27", "th28", "th29"] {
            await #expect(!remote(host, "test -e \(root)/deploy.lock && echo held").contains("held"))
            _ = await remote(host, "supervisorctl -c \(root)/run/supervisord.conf shutdown")
        }
    }

    /// A canary goes first and serves while the rollout waits; the rest go
    /// together after. A canary that turns unhealthy during the wait stops
    /// the rollout: the other hosts keep the release they had.
    @Test(.timeLimit(.minutes(3))) func aCanaryGoesFirstAndOneThatTurnsUnhealthyStopsTheRollout() async throws {
        let repo = try await Self.appRepository()
        let root = "/srv/canary-\(UUID().uuidString.prefix(6).lowercased())"
        let fleet = ["th26", "th37", "th42"]
        let deployfile = """
            import SwiftFab
            import SwiftFabRecipes

            let deployfile = Deployfile("shop", history: "\(root)/history.log") {
                Environment("fleet") { \(fleet.map { "Host(\"\($0)\", roles: .web)" }.joined(separator: "; ")) }
                BlueGreen(BlueGreenConfig(app: "shop", root: "\(root)", command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app",
                                          healthTimeout: 8, batch: .all, canary: 1, pauseBetweenBatches: 3, runtime: .process))
            }
            """
        try deployfile.write(toFile: repo + "/Deployfile.swift", atomically: true, encoding: .utf8)
        await #expect(Shell.runLocally(["/bin/sh", "-c", "cd \(repo) && git add -A && git commit -qm 'Add Deployfile'"]).status == 0)
        func remote(_ host: String, _ script: String) async -> String {
            await Shell.runLocally(["/usr/bin/ssh", "-F", hosts.sshConfig, host, script]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func served(_ host: String) async -> String { await remote(host, "curl -s --max-time 2 --unix-socket \(root)/run/live.sock http://localhost/version") }

        let first = try RunningSwiftfab(["deploy", "-F", hosts.sshConfig], in: repo)
        #expect(try await first.exitStatus() == 0, "\(first.output)")
        for expected in ["batch 1 of 2 (canary): th26", "before the next batch: wait 3.00s, then check that the batch's live slots still answer /healthz",
                         "batch 2 of 2: th37, th42"] {
            #expect(first.output.contains(expected), "\(expected): \(first.output)")
        }
        for host in fleet { await #expect(served(host) == "v0") }

        // v1: the canary switches, then dies while the rollout waits (a release that crashes after a while).
        await Self.commit(repo, version: "v1")
        let second = try RunningSwiftfab(["deploy", "-F", hosts.sshConfig], in: repo)
        try await second.waitForOutput("before the next batch")
        let live = await remote("th26", "readlink \(root)/run/live.sock | sed 's/[.]sock$//'")
        _ = await remote("th26", "supervisorctl -c \(root)/run/supervisord.conf stop shop-\(live)")
        #expect(try await second.exitStatus() == 1, "\(second.output)")
        #expect(second.output.contains("th26  | failed the check before the next batch, so no more hosts start: its live slot \(live) no longer answers /healthz"),
                "\(second.output)")
        #expect(second.output.contains("not started: an earlier host failed") && !second.output.contains("batch 2 of 2"), "\(second.output)")
        #expect(!first.output.contains("→ exit 0"), "\(first.output)")  // the lock's release is no condition
        let (served37, served42) = (await served("th37"), await served("th42"))
        #expect(served37 == "v0" && served42 == "v0")
        for host in fleet { _ = await remote(host, "supervisorctl -c \(root)/run/supervisord.conf shutdown") }
    }

    @Test(.timeLimit(.minutes(2))) func theOldSlotStopsAfterItsDelayUnlessReused() async throws {
        let repo = try await Self.appRepository()
        let repository = try GitRepository(discoveringFrom: repo)
        let root = "/srv/drain-\(UUID().uuidString.prefix(6).lowercased())"
        let deployer = BlueGreenDeployer(config: BlueGreenConfig(app: "shop", root: root,
            command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app", healthTimeout: 8, stopOldSlotAfter: 1.5, runtime: .process))
        try await hosts.withConnection("th30") { connection in
            func state(_ slot: Slot) async throws -> String {
                try await connection.run(.raw("supervisorctl -c \(root)/run/supervisord.conf status shop-\(slot.rawValue) | awk '{print $2}'")).stdoutText
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            await Self.commit(repo, version: "v1")
            let v1 = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            let old = try #require(v1.previous)
            #expect(try await state(old) == "RUNNING")
            try await waitFor("the old slot to stop after its delay") { try await state(old) == "STOPPED" }
            #expect(try await state(v1.slot) == "RUNNING")
            // Rollback starts the stopped slot again.
            let back = try await deployer.rollback(on: connection, deployer: "ci")
            #expect(back.slot == old)
            #expect(try await state(old) == "RUNNING")
            // A deploy that reuses a slot before an old timer fires is not stopped by it.
            await Self.commit(repo, version: "v2")
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            await Self.commit(repo, version: "v3")
            let v3 = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            // Every delayed stop has fired and decided (its job holds the lock guard's path in its command line).
            try await waitFor("the delayed stops to end") {
                // (The bracket keeps the pattern from matching this very command's own line.)
                try await connection.run(.raw("pgrep -f \(Shell.quote(root + "/[.]deploy[.]lock[.]guard")) || true")).stdoutText.isEmpty
            }
            #expect(try await state(v3.slot) == "RUNNING")
            #expect(try await connection.run(.raw("curl -s --unix-socket \(root)/run/live.sock http://localhost/version")).stdoutText == "v3\n")
            _ = try await connection.run(.raw("supervisorctl -c \(root)/run/supervisord.conf shutdown"))
        }
    }

    @Test(.timeLimit(.minutes(2))) func rollbackAfterAFailedDeployGoesToTheReleaseThatWasLive() async throws {
        let repo = try await Self.appRepository()
        let repository = try GitRepository(discoveringFrom: repo)
        let root = "/srv/back-\(UUID().uuidString.prefix(6).lowercased())"
        let deployer = BlueGreenDeployer(config: BlueGreenConfig(app: "shop", root: root,
            command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app", healthTimeout: 3, runtime: .process))
        try await hosts.withConnection("th32") { connection in
            func served() async throws -> String {
                try await connection.run(.raw("curl -s --unix-socket \(root)/run/live.sock http://localhost/version")).stdoutText
            }
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            await Self.commit(repo, version: "v1")
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            await Self.commit(repo, version: "v2-broken", broken: true)
            await #expect(throws: SwiftFabError.self) {
                _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            }
            #expect(try await served() == "v1\n")
            // The other slot now holds the failed release: rollback must start v0 instead.
            let back = try await deployer.rollback(on: connection, deployer: "ci")
            #expect(try await served() == "v0\n")
            // And rolling back again returns to v1, the release that was live before.
            _ = try await deployer.rollback(on: connection, deployer: "ci")
            #expect(try await served() == "v1\n")
            #expect(back.release != "")
            _ = try await connection.run(.raw("supervisorctl -c \(root)/run/supervisord.conf shutdown"))
        }
    }

    /// `rollback RELEASE`: any kept release, by -N, by a commit's SHA or by
    /// name; warm when its slot runs it, otherwise started and checked first;
    /// one that is not kept, or already live, changes nothing.
    @Test(.timeLimit(.minutes(2))) func rollbackGoesToAnyKeptRelease() async throws {
        let repo = try await Self.appRepository()
        let repository = try GitRepository(discoveringFrom: repo)
        let root = "/srv/any-\(UUID().uuidString.prefix(6).lowercased())"
        let deployer = BlueGreenDeployer(config: BlueGreenConfig(app: "shop", root: root,
            command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app", healthTimeout: 5, runtime: .process))
        try await hosts.withConnection("th31") { connection in
            func served() async throws -> String {
                try await connection.run(.raw("curl -s --unix-socket \(root)/run/live.sock http://localhost/version")).stdoutText
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            var releases: [String] = []
            var commits: [String] = []
            for version in ["v0", "v1", "v2", "v3"] {
                if version != "v0" { await Self.commit(repo, version: version) }
                commits.append(try repository.resolve("HEAD").sha)
                releases.append(try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci").release)
            }
            #expect(releases == releases.sorted() && Set(releases).count == 4, "\(releases)")  // made in order, even within one second
            #expect(try await served() == "v3")
            // -2 from v3 is v1: the standby runs v2, so v1 starts cold there.
            let notes = LineLog()
            let back = try await deployer.rollback(on: connection, deployer: "ci", to: .back(2)) { notes.add($0 + "\n") }
            #expect(back.release == releases[1] && notes.all.contains("is cold: starting \(releases[1])"), "\(notes.all)")
            #expect(try await served() == "v1")
            // A plain rollback returns to the release that was live (v3, still warm).
            let warmNotes = LineLog()
            let warm = try await deployer.rollback(on: connection, deployer: "ci") { warmNotes.add($0 + "\n") }
            #expect(warm.release == releases[3] && !warmNotes.all.contains("is cold"), "\(warmNotes.all)")
            #expect(try await served() == "v3")
            // By commit: a short SHA and a whole one.
            _ = try await deployer.rollback(on: connection, deployer: "ci", to: .revision(String(commits[0].prefix(5))))
            #expect(try await served() == "v0")
            _ = try await deployer.rollback(on: connection, deployer: "ci", to: .revision(commits[2]))
            #expect(try await served() == "v2")
            // By name; the live one again is a no-op; one not kept changes nothing.
            let byName = try await deployer.rollback(on: connection, deployer: "ci", to: .release(releases[3]))
            #expect(try await served() == "v3")
            let same = try await deployer.rollback(on: connection, deployer: "ci", to: .release(releases[3]))
            #expect(same.slot == byName.slot && same.previous == nil && same.switchSeconds == 0)
            let standby = try await connection.run(.raw("cat \(root)/run/previous")).stdoutText
            await #expect(throws: SwiftFabError.self) {
                _ = try await deployer.rollback(on: connection, deployer: "ci", to: .release("20200101T000000Z-abcdef0"))
            }
            await #expect(throws: SwiftFabError.self) { _ = try await deployer.rollback(on: connection, deployer: "ci", to: .back(9)) }
            #expect(try await served() == "v3")
            #expect(try await connection.run(.raw("cat \(root)/run/previous")).stdoutText == standby)
            _ = try await connection.run(.raw("supervisorctl -c \(root)/run/supervisord.conf shutdown"))
        }
    }

    /// Rootful podman with a local base image (scripts/podman-sandbox; about a minute the first time).
    static var podman: String {
        get async throws { try await podmanSandbox.value }
    }

    private static let podmanSandbox = Task {
        let result = await Shell.runLocally([TestHosts.packageRoot + "/scripts/podman-sandbox"])
        guard result.status == 0 else { throw SwiftFabError(.local, "podman sandbox: \(result.output)") }
        return result.output.split(separator: "\n").last.map(String.init) ?? "podman"
    }

    /// The same container deploys on both engines: podman (daemonless) and a
    /// real Docker Engine started inside the host.
    @Test(.timeLimit(.minutes(5)), arguments: ["podman", "docker"])
    func containerSlotsRebuildOnlyWhenDependenciesChange(engineName: String) async throws {
        let index = engineName == "podman" ? 33 : 48
        let host = "th\(index)"
        try await hosts.withConnection(host) { connection in
            guard engineName == "docker" else { return try await containerDeploys(engine: Self.podman, on: connection, ip: hosts.ip(index)) }
            let docker = try await DockerEngine.start(in: host, on: connection)
            do {
                try await containerDeploys(engine: docker.command, on: connection, ip: hosts.ip(index))
            } catch {
                try? await docker.stop(on: connection)
                throw error
            }
            try await docker.stop(on: connection)
        }
    }

    /// Deploys (code only, then a dependency change) and a rollback through
    /// nginx under load: not one request fails, and only the image builds
    /// the dependencies ask for happen.
    /// The example app with a Dockerfile whose image holds only the dependencies.
    static func containerRepository() async throws -> String {
        let repo = try await appRepository()
        let setup = """
            cd \(Shell.quote(repo)) && printf 'FROM localhost/swiftfab-base:bookworm\\nCOPY requirements.txt /deps/requirements.txt\\n' > Dockerfile \
            && echo 'gunicorn==20.1' > requirements.txt && git add -A && git commit -qm 'Container image'
            """
        let status = await Shell.runLocally(["/bin/sh", "-c", setup]).status
        #expect(status == 0)
        return repo
    }

    /// A container app under a fresh name (`<prefix>xxxxxx`, root `/srv/<prefix>-xxxxxx`) on `engine`.
    static func containerApp(_ prefix: String, engine: String) -> BlueGreenConfig {
        let id = UUID().uuidString.prefix(6).lowercased()
        return BlueGreenConfig(app: prefix + id, root: "/srv/\(prefix)-\(id)",
            command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app", healthTimeout: 20,
            runtime: .container(ContainerRuntime(engine: engine, dependencyFiles: ["requirements.txt"])))
    }

    private func containerDeploys(engine: String, on connection: SSHConnection, ip: String) async throws {
        let repo = try await Self.containerRepository()
        let repository = try GitRepository(discoveringFrom: repo)
        var config = Self.containerApp("ctr", engine: engine)
        let root = config.layout.root, app = config.layout.app
        let deployer = BlueGreenDeployer(config: config)
        do {
            func served() async throws -> String {
                try await connection.run(.raw("curl -s --unix-socket \(root)/run/live.sock http://localhost/version")).stdoutText
            }
            func images() async throws -> Int {
                Int(try await connection.run(.raw("\(engine) images --format '{{.Repository}}:{{.Tag}}' | grep -c '\(app):deps-' || true"))
                    .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            }
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            #expect(try await served() == "v0\n")
            #expect(try await images() == 1)
            try await startProxy(connection, layout: AppLayout(app: app, root: root), port: 8090, ip: ip)
            let load = LoadGenerator(host: ip, port: 8090, path: "/version", threads: 4)
            try await load.waitForSamples(50)  // traffic flows before anything changes
            // A code-only change reuses the image: the code is mounted, not built in.
            await Self.commit(repo, version: "v1")
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            #expect(try await served() == "v1\n")
            #expect(try await images() == 1)
            try await load.waitForSamples(20)
            // A dependency change builds one new image.
            await #expect(Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(repo)) && echo 'gunicorn==20.1.1' > requirements.txt && echo v2 > VERSION && git commit -qam deps"]).status == 0)
            _ = try await deployer.deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            #expect(try await served() == "v2\n")
            #expect(try await images() == 2)
            try await load.waitForSamples(20)
            let backNotes = LineLog()
            _ = try await deployer.rollback(on: connection, deployer: "ci") { backNotes.add($0 + "\n") }
            #expect(try await served() == "v1\n")
            #expect(!backNotes.all.contains("is cold"), "the standby ran v1: \(backNotes.all)")
            try await load.waitForSamples(50)  // and after the rollback, traffic still flows
            let samples = await load.stop()
            let failed = samples.filter { $0.status != 200 }
            print("container deploys under load (\(engine.contains("docker") ? "Docker Engine" : "podman")): \(samples.count) requests, \(failed.count) failed")
            #expect(failed.isEmpty, "\(failed.count) of \(samples.count) failed, e.g. \(failed.prefix(3).map { "\($0.status) \($0.body)" })")
            #expect(Set(samples.map(\.body)) == ["v0", "v1", "v2"], "\(Set(samples.map(\.body)))")
            _ = try await connection.run(.raw("nginx -c /srv/nginx-test/nginx.conf -s quit"))
            // Asked to, the old slot's container stops after its delay; the new one serves.
            config.stopOldSlotAfter = 0.5
            await Self.commit(repo, version: "v3")
            let last = try await BlueGreenDeployer(config: config).deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
            try await waitFor("the old container to stop") {
                !(try await connection.run(.raw("\(engine) ps --format '{{.Names}}'")).stdoutText.contains("\(app)-\(last.slot.other.rawValue)"))
            }
            #expect(try await served() == "v3\n")
            let running = try await connection.run(.raw("\(engine) ps --format '{{.Names}}'")).stdoutText
            #expect(running.contains("\(app)-\(last.slot.rawValue)") && !running.contains("\(app)-\(last.slot.other.rawValue)"), "\(running)")
            _ = try await connection.run(.raw("\(engine) rm -f \(app)-blue \(app)-green >/dev/null 2>&1; true"))
        }
    }

    /// The seeds' stack after a reboot, for real on Docker Engine: one compose
    /// project holds PostgreSQL and Caddy (in front of the app's slots), the
    /// slots are swiftfab's containers. A deploy under load through that
    /// Caddy drops nothing. Then a reboot: Caddy and the engine stop (and
    /// with it every container), the engine and what boot runs (provision's
    /// boot script) start again. The database is back with its data; the live
    /// release, and only it, serves through Caddy; the standby comes back as
    /// it was: warm when it ran, stopped when swiftfab had stopped it.
    @Test(.timeLimit(.minutes(5))) func aRebootBringsBackTheLiveSlotAndTheStandbyAsTheyWere() async throws {
        try await hosts.withConnection("th50") { connection in
            let docker = try await DockerEngine.start(in: "th50", on: connection, images: [DockerEngine.baseImage, DockerEngine.postgresImage])
            do {
                try await reboots(on: connection, docker: docker, ip: hosts.ip(50))
            } catch {
                try? await docker.stop(on: connection)
                throw error
            }
            try await docker.stop(on: connection)
        }
    }

    /// Caddy as a service of the app's compose project (its static binary
    /// mounted into the base image), proxying `port` to the live slot's socket.
    /// Keepalive off: each request dials live.sock anew, so a switch applies at once.
    static func caddyService(layout: AppLayout, ip: String, port: Int) -> (service: String, caddyfile: String) {
        let dir = layout.root + "/proxy"
        let caddyfile = """
            {
                admin off
                auto_https off
            }
            http://\(ip):\(port) {
                reverse_proxy unix/\(layout.run)/live.sock {
                    transport http {
                        keepalive off
                    }
                }
            }
            """
        let service = """
              proxy:
                image: \(DockerEngine.baseImage)
                network_mode: host
                environment: ["HOME=\(dir)", "XDG_CONFIG_HOME=\(dir)", "XDG_DATA_HOME=\(dir)"]
                volumes: ["/usr/bin/caddy:/usr/bin/caddy:ro", "\(dir):\(dir)", "\(layout.run):\(layout.run)"]
                command: ["/usr/bin/caddy", "run", "--config", "\(dir)/Caddyfile", "--adapter", "caddyfile"]
            """
        return (service, caddyfile)
    }

    private func reboots(on connection: SSHConnection, docker: DockerEngine, ip: String) async throws {
        let repo = try await Self.containerRepository()
        let repository = try GitRepository(discoveringFrom: repo)
        var config = Self.containerApp("boot", engine: docker.command)
        let layout = config.layout, root = layout.root, app = layout.app
        // The compose project: no restart policy, so only boot can bring it back.
        let proxy = Self.caddyService(layout: layout, ip: ip, port: 8091)
        let prepared = try await connection.run(Command(shell: "mkdir -p \(root + "/proxy") \(layout.run) && printf '%s\\n' \(proxy.caddyfile) > \(root + "/proxy/Caddyfile")"))
        #expect(prepared.succeeded, "\(prepared.stderrText)")
        let db = try await PostgresCluster.start(hosts, index: 50, password: PostgresTests.password, in: docker, beside: proxy.service)
        defer { db.stopBlocking() }
        let compose = try #require(db.compose).file
        await db.sql("CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 1000)")
        let plan = ProvisionPlan(config: ServerConfig(app: config, bootScriptDir: root + "/boot", composeFiles: [compose], composeCommand: docker.compose))
        let written = try await connection.run(Command(shell: "mkdir -p \(root + "/boot") && printf '%s' \(plan.bootScriptText()) > \(plan.bootScript)"))
        #expect(written.succeeded, "\(written.stderrText)")
        func viaProxy() -> String { LoadGenerator.request(host: ip, port: 8091, path: "/version").body }
        func running() async throws -> Set<String> {
            let names = try await connection.run(.raw("\(docker.command) ps --format '{{.Names}}'")).stdoutText
            return Set(names.split(separator: "\n").map(String.init).filter { $0.hasPrefix(app + "-") })
        }
        func dataAnswers() async -> Bool { await db.sql("SELECT count(*) FROM orders") == "1000" }
        func caddyAnswers() -> Bool { LoadGenerator.request(host: ip, port: 8091, path: "/").status != 0 }
        /// The apps take a moment to listen again after boot: wait until Caddy gets an answer from one.
        func afterBoot() async throws -> String {
            try await waitFor("an app to answer through Caddy after boot") { LoadGenerator.request(host: ip, port: 8091, path: "/version").status == 200 }
            return viaProxy()
        }
        func reboot() async throws {
            try await docker.stop(on: connection)
            _ = try await DockerEngine.start(in: "th50", on: connection)
            #expect(try await running().isEmpty)  // nothing came back by itself
            await #expect(!dataAnswers() && !caddyAnswers())
            let boot = try await connection.run(.raw("/bin/sh \(plan.bootScript)"))
            #expect(boot.succeeded, "\(boot.stdoutText)\(boot.stderrText)")
            try await waitFor("the database and Caddy to answer after boot") { await dataAnswers() && caddyAnswers() }
        }

        _ = try await BlueGreenDeployer(config: config).deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
        #expect(try await afterBoot() == "v0")
        // A deploy through Caddy in the compose project, under load: nothing dropped.
        let load = LoadGenerator(host: ip, port: 8091, path: "/version", threads: 4)
        try await load.waitForSamples(50)
        await Self.commit(repo, version: "v1")
        let v1 = try await BlueGreenDeployer(config: config).deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
        let deployed = Date().timeIntervalSince1970
        try await load.waitForSamples(50, since: deployed + 0.05)
        let samples = await load.stop()
        let failed = samples.filter { $0.status != 200 }
        print("a deploy through Caddy in the compose project on Docker Engine: \(samples.count) requests, \(failed.count) failed")
        #expect(failed.isEmpty, "\(failed.count) of \(samples.count) failed through Caddy, e.g. \(failed.prefix(3).map { "\($0.status) \($0.body)" })")
        #expect(Set(samples.map(\.body)) == ["v0", "v1"])
        #expect(Set(samples.filter { $0.time > deployed + 0.05 }.map(\.body)) == ["v1"])
        #expect(try await running() == ["\(app)-blue", "\(app)-green"])

        // Warm standby before: both slots run after, and the live one serves.
        try await reboot()
        #expect(try await afterBoot() == "v1")
        #expect(try await running() == ["\(app)-blue", "\(app)-green"])

        // A deploy that stops the old slot: after a reboot it stays stopped.
        config.stopOldSlotAfter = 0.2
        await Self.commit(repo, version: "v2")
        let v2 = try await BlueGreenDeployer(config: config).deploy(on: connection, repository: repository, revision: "HEAD", deployer: "ci")
        #expect(v2.slot == v1.slot.other)
        try await waitFor("the old slot to stop") { try await running() == ["\(app)-\(v2.slot.rawValue)"] }
        try await reboot()
        #expect(try await afterBoot() == "v2")
        #expect(try await running() == ["\(app)-\(v2.slot.rawValue)"])

        // And a rollback after the reboot starts the cold standby with the release before.
        _ = try await BlueGreenDeployer(config: config).rollback(on: connection, deployer: "ci")
        #expect(viaProxy() == "v1")
        _ = try await connection.run(.raw("\(docker.command) rm -f \(app)-blue \(app)-green >/dev/null 2>&1; true"))
    }

    /// Two apps on one server (seed 001): each with its own name in nginx,
    /// its own root, slots, releases and lock. Under load on both, one app's
    /// deploys, a broken deploy and a rollback never fail a request of the
    /// other, and its deploy never changes what the other serves.
    @Test(.timeLimit(.minutes(4))) func twoAppsOnOneServerNeverDisturbEachOther() async throws {
        let index = 39, ip = hosts.ip(39), port = 8093
        let apps = ["alpha", "beta"].map { "\($0)\(UUID().uuidString.prefix(4).lowercased())" }
        var repos: [String] = []
        for _ in apps { repos.append(try await Self.appRepository()) }
        let configs = apps.map { app in
            BlueGreenConfig(app: app, root: "/srv/\(app)", command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app",
                            healthTimeout: 8, runtime: .process)
        }
        let site = "/srv/nginx-two"
        let servers = zip(apps, configs).map { (app, config) -> String in
            let socket = config.layout.run + "/live.sock"
            return "upstream \(app) { server unix:\(socket); }\nserver { listen \(ip):\(port); server_name \(app).example; location / { proxy_pass http://\(app); } }"
        }.joined(separator: "\n")
        try await hosts.withConnection("th\(index)") { connection in
            for (config, repo) in zip(configs, repos) {
                _ = try await BlueGreenDeployer(config: config).deploy(on: connection, repository: try GitRepository(discoveringFrom: repo),
                                                                       revision: "HEAD", deployer: "ci")
            }
            try await startNginx(connection, in: site, servers: servers)
            let loads = apps.map { LoadGenerator(host: ip, port: port, path: "/version", name: "\($0).example", threads: 3) }
            for load in loads { try await load.waitForSamples(50) }

            // alpha: a deploy, a broken deploy (refused), a rollback.
            let alpha = BlueGreenDeployer(config: configs[0]), alphaRepo = try GitRepository(discoveringFrom: repos[0])
            await Self.commit(repos[0], version: "a1")
            _ = try await alpha.deploy(on: connection, repository: alphaRepo, revision: "HEAD", deployer: "ci")
            await Self.commit(repos[0], version: "a2", broken: true)
            await #expect(throws: SwiftFabError.self) {
                _ = try await alpha.deploy(on: connection, repository: alphaRepo, revision: "HEAD", deployer: "ci")
            }
            _ = try await alpha.rollback(on: connection, deployer: "ci")
            for load in loads { try await load.waitForSamples(50) }
            let betaMark = Date().timeIntervalSince1970
            // beta: one deploy, while alpha keeps serving.
            await Self.commit(repos[1], version: "b1")
            _ = try await BlueGreenDeployer(config: configs[1]).deploy(on: connection, repository: try GitRepository(discoveringFrom: repos[1]),
                                                                       revision: "HEAD", deployer: "ci")
            for load in loads { try await load.waitForSamples(50) }
            var samples: [[LoadGenerator.Sample]] = []
            for load in loads { samples.append(await load.stop()) }
            _ = try await connection.run(.raw("nginx -c \(site)/nginx.conf -s quit; "
                + configs.map { "supervisorctl -c \($0.layout.run)/supervisord.conf shutdown >/dev/null" }.joined(separator: "; ")))

            for (app, seen) in zip(apps, samples) {
                let failed = seen.filter { $0.status != 200 }
                print("two apps on one server: \(app) \(seen.count) requests, \(failed.count) failed, versions \(Set(seen.map(\.body)).sorted())")
                #expect(failed.isEmpty, "\(app): \(failed.count) of \(seen.count) failed, e.g. \(failed.prefix(3).map { "\($0.status) \($0.body)" })")
            }
            // Each app served only its own versions: alpha never the broken a2, beta only v0 until its own deploy.
            #expect(Set(samples[0].map(\.body)).isSubset(of: ["v0", "a1"]) && samples[0].contains { $0.body == "a1" }, "\(Set(samples[0].map(\.body)))")
            #expect(Set(samples[1].filter { $0.time < betaMark }.map(\.body)) == ["v0"])
            #expect(samples[1].last?.body == "b1")
        }
    }
}
