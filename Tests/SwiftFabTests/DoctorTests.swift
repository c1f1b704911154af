import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// `doctor` on a sandbox host running the real thing (nginx, the app's
/// supervisord and gunicorn slots, PostgreSQL, a small tmpfs volume): healthy
/// first, then broken one way at a time, each named with its status and hint.
@Suite(.serialized) struct DoctorTests {
    var hosts: TestHosts { .shared }
    static let index = 41
    var ip: String { hosts.ip(Self.index) }

    @Test(.timeLimit(.minutes(3)), .sandbox) func namesEachBreakageWithItsHintAndExitCode() async throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let root = "/srv/doc-\(tag)", sys = "/srv/docsys-\(tag)", volume = "/srv/docvol-\(tag)"
        let fixture = ProvisionTests.systemFixture(sys, ip: ip, port: 18041)
        let app = BlueGreenConfig(app: "shop", root: root, command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app",
                                  healthTimeout: 10, runtime: .process)
        // The machine is shared with builds: its load says nothing about this host's health.
        let config = ServerConfig(app: app, deployUser: "root", sudoersDir: "\(sys)/sudoers.d", packages: [], proxy: fixture.proxy,
                                  boot: fixture.boot, bootScriptDir: "\(sys)/lib", postgres: PostgresProbe(host: ip, port: 15441),
                                  backups: "\(root)/backups", volumes: ["/", root, volume], loadWarnPerCore: 50, loadFailPerCore: 100, sshWarnSeconds: 5,
                                  revisionPath: "/version")
        let repo = try await BlueGreenTests.appRepository()
        let pg = "\(sys)/pg", pgBin = PostgresCluster.bin
        let startPostgres = "runuser -u postgres -- \(pgBin)/pg_ctl -D \(pg)/data -l \(pg)/server.log -w -o '-c listen_addresses=\(ip) -p 15441 -k \(pg)' start >/dev/null"

        try await hosts.withConnection("th\(Self.index)") { connection in
            func remote(_ script: String) async throws -> String {
                let result = try await connection.run(.raw(script))
                return (result.stdoutText + result.stderrText).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let setup = try await connection.run(.raw(fixture.setup + "; mkdir -p \(volume) && mount -t tmpfs -o size=1m tmpfs \(volume)"
                + "; mkdir -p \(pg) && chown postgres \(pg) && runuser -u postgres -- \(pgBin)/initdb -D \(pg)/data -U postgres -A trust >/dev/null && \(startPostgres)"))
            #expect(setup.succeeded, "\(setup.stderrText)")
            do {
                let provisioned = try await Provisioner(config: config).provision(on: connection)
                #expect(!provisioned.contains { $0.outcome == .failed }, "\(provisioned)")
                _ = try await BlueGreenDeployer(config: app).deploy(on: connection, repository: try GitRepository(discoveringFrom: repo),
                                                                    revision: "HEAD", deployer: "ci")
                let stamp = try await remote("date -u +%Y%m%dT%H%M%SZ")
                _ = try await remote("touch \(root)/backups/shop-\(stamp).dump")

                func doctor() async throws -> [String: Finding] {
                    let findings = try await DoctorRun(config: config).findings(on: connection)
                    return Dictionary(findings.map { ($0.check, $0) }, uniquingKeysWith: { first, _ in first })
                }
                /// Everything but `broken` is ok; `broken` has the status and a hint containing `hint`.
                @discardableResult func expectOnly(_ broken: [String: (CheckStatus, String)], _ why: String) async throws -> [String: Finding] {
                    let findings = try await doctor()
                    for (check, finding) in findings {
                        if let (status, hint) = broken[check] {
                            #expect(finding.status == status && finding.hint?.contains(hint) == true, "\(why): \(finding)")
                        } else {
                            #expect(finding.status == .ok, "\(why): \(finding)")
                        }
                    }
                    for check in broken.keys { #expect(findings[check] != nil, "\(why): no check \(check)") }
                    return findings
                }

                let healthy = try await DoctorRun(config: config).findings(on: connection)
                print(DoctorReport.table(healthy).joined(separator: "\n"))
                #expect(healthy.count == 19, "\(healthy.map(\.check))")
                #expect(healthy.allSatisfy { $0.status == .ok }, "\(healthy.filter { $0.status != .ok })")
                #expect(healthy.first { $0.check == "live via proxy" }?.saw.hasPrefix("serves the live release") == true)

                _ = try await remote("nginx -c \(sys)/nginx/nginx.conf -s quit; for i in $(seq 100); do pgrep -f \(Shell.quote("[n]ginx -c \(sys)/nginx/nginx.conf")) >/dev/null || break; sleep 0.1; done")
                try await expectOnly(["proxy running": (.fail, "nginx -c \(sys)/nginx/nginx.conf"), "live via proxy": (.fail, "swiftfab logs proxy")], "nginx stopped")
                _ = try await remote("nginx -c \(sys)/nginx/nginx.conf")

                _ = try await remote("supervisorctl -c \(root)/run/supervisord.conf stop shop-blue")
                let stopped = try await expectOnly(["slot processes": (.fail, "supervisorctl -c \(root)/run/supervisord.conf start shop-blue"),
                                      "health blue": (.fail, "swiftfab rollback"), "live via proxy": (.fail, "swiftfab logs slot")], "live slot stopped")
                #expect(stopped["health blue"]?.saw == "live, unhealthy at /healthz: nothing listens on \(root)/run/blue.sock", "\(stopped["health blue"]!)")
                print(DoctorReport.table(Array(stopped.values).sorted { $0.check < $1.check }).joined(separator: "\n"))
                _ = try await remote("supervisorctl -c \(root)/run/supervisord.conf start shop-blue; for i in $(seq 100); do curl -fs --unix-socket \(root)/run/blue.sock http://localhost/healthz >/dev/null && break; sleep 0.1; done")

                _ = try await remote("dd if=/dev/zero of=\(volume)/fill bs=1k count=1000 2>/dev/null; true")
                try await expectOnly(["disk \(volume)": (.fail, "du -xh --max-depth=2 \(volume)")], "volume full")
                _ = try await remote("rm -f \(volume)/fill")

                _ = try await remote("cd \(root)/backups && mv shop-*.dump shop-20200101T000000Z.dump && touch -d '2 days ago' shop-20200101T000000Z.dump")
                try await expectOnly(["backups": (.warn, "swiftfab backup")], "old backup")

                _ = try await remote("mkdir -p \(root)/deploy.lock && printf 'someone@else\\nabc1234\\nyesterday\\n' > \(root)/deploy.lock/holder")
                let locked = try await doctor()["deploy lock"]
                #expect(locked?.status == .warn && locked?.saw == "held by someone@else (revision abc1234, since yesterday)" && locked?.hint?.contains("swiftfab unlock") == true)
                // A holder whose sshd process is gone: the deploy died with its connection.
                _ = try await remote("printf 'someone@else\\nabc1234\\nyesterday\\n999999 1\\n' > \(root)/deploy.lock/holder")
                #expect(try await doctor()["deploy lock"]?.saw.hasSuffix("its connection is gone, the next deploy clears it") == true)
                _ = try await remote("rm -rf \(root)/deploy.lock; touch \(root)/backups/shop-\(stamp).dump")

                _ = try await remote("echo 'bogus_directive on;' >> \(sys)/nginx/sites/shop.conf")
                try await expectOnly(["proxy config": (.fail, "nginx -t -q -c \(sys)/nginx/nginx.conf && nginx -c")], "proxy config broken")
                #expect(try await doctor()["proxy config"]?.saw.contains("bogus_directive") == true)
                _ = try await remote("sed -i '/bogus_directive/d' \(sys)/nginx/sites/shop.conf")

                _ = try await remote("runuser -u postgres -- \(pgBin)/pg_ctl -D \(pg)/data -m fast stop >/dev/null")
                try await expectOnly(["postgres": (.fail, "pg_isready -h \(ip) -p 15441")], "postgres stopped")
                _ = try await remote(startPostgres)

                try await expectOnly([:], "all repaired")
                try await Self.throughTheCommandLine(hosts: hosts, config: config, root: root, remote: { script in
                    await Shell.runLocally(["/usr/bin/ssh", "-F", hosts.sshConfig, "th\(Self.index)", script]).output
                })
            } catch {
                Issue.record(error)
            }
            _ = try await remote("runuser -u postgres -- \(pgBin)/pg_ctl -D \(pg)/data -m immediate stop >/dev/null 2>&1; umount \(volume); rmdir \(volume); "
                                 + ProvisionTests.teardown(sys, root: root))
        }
    }

    /// The exit codes and `--json`, from the `swiftfab` binary on a Deployfile.
    static func throughTheCommandLine(hosts: TestHosts, config: ServerConfig, root: String, remote: (String) async -> String) async throws {
        let dir = try TempDir.make().path
        let proxy = config.proxy!
        let deployfile = """
            import SwiftFab
            import SwiftFabRecipes

            let app = BlueGreenConfig(app: "shop", root: "\(root)", command: "unused", runtime: .process)
            let deployfile = Deployfile("shop") {
                Environment("test", default: true) { Host("th\(index)", roles: .web) }
                Environment("gone") { Host("127.0.0.1", port: 1, roles: .web) }
                ServerTasks(ServerConfig(app: app, deployUser: "root", sudoersDir: "\(config.sudoersDir)", packages: [],
                    proxy: NginxSite(hostname: "shop.example", listen: "\(proxy.listen)", sitesDir: "\(proxy.sitesDir)",
                                     testCommand: "\(proxy.testCommand)", startCommand: "\(proxy.startCommand)",
                                     pidFile: "\(proxy.pidFile)", localURL: "\(proxy.localURL)", logs: \(proxy.logs)),
                    boot: .none, backups: "\(root)/backups", loadWarnPerCore: 50, loadFailPerCore: 100, sshWarnSeconds: 5))
            }
            """
        try deployfile.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        func swiftfab(_ arguments: String...) async -> (status: Int32, output: String) {
            await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(dir)) && exec " + Shell.join([CLITests.binary] + arguments + ["-F", hosts.sshConfig])],
                             environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache])
        }
        /// Standard output alone: what a pipe gets.
        func stdout(_ arguments: String...) async -> [String] {
            await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(dir)) && exec " + Shell.join([CLITests.binary] + arguments + ["-F", hosts.sshConfig]) + " 2>/dev/null"],
                                   environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache]).output.split(separator: "\n").map(String.init)
        }
        /// The run's last line, which must agree with its exit status.
        func lastLine(_ output: String) -> String { output.split(separator: "\n").last.map(String.init) ?? "" }
        // Provisioned already: --check finds nothing to change, and says so in green.
        let check = await swiftfab("provision", "--check")
        #expect(check.status == 0 && check.output.contains("ok           proxy site") && !check.output.contains("would change"), "\(check.output)")
        #expect(lastLine(check.output).hasPrefix("✓ provision: nothing to change in ") && !check.output.contains("✗"), "\(check.output)")
        let healthy = await swiftfab("doctor")
        #expect(healthy.status == 0 && lastLine(healthy.output).hasPrefix("✓ doctor done in "), "\(healthy.output)")
        // The table is the result: on standard output, alone, unlabelled for one host.
        let table = await stdout("doctor")
        #expect(table.first?.hasPrefix("check ") == true && table.last?.hasSuffix(" ok, 0 warn, 0 fail") == true, "\(table)")
        #expect(table.contains { $0.hasPrefix("live via proxy ") && $0.contains(" ok      serves the live release") }, "\(table)")

        _ = await remote("mkdir -p \(root)/deploy.lock && printf 'someone@else\\nabc1234\\nyesterday\\n' > \(root)/deploy.lock/holder")
        let warned = await swiftfab("doctor")
        #expect(warned.status == 1 && lastLine(warned.output).hasPrefix("! doctor: 1 warning in "), "\(warned.output)")
        #expect(warned.output.contains("→ if no deploy is running any more: swiftfab unlock"))

        _ = await remote("nginx -c \(proxy.sitesDir)/../nginx.conf -s quit; for i in $(seq 100); do pgrep -f \(Shell.quote("[n]ginx -c \(proxy.sitesDir)/../nginx.conf")) >/dev/null || break; sleep 0.1; done")
        let failed = await swiftfab("doctor", "--json")
        #expect(failed.status == 2, "\(failed.output)")
        let objects = failed.output.split(separator: "\n").compactMap { try? JSONDecoder().decode(Finding.self, from: Data($0.utf8)) }
            .filter { !$0.check.isEmpty }
        #expect(objects.first { $0.check == "proxy running" }?.status == .fail, "\(failed.output)")
        #expect(objects.first { $0.check == "deploy lock" }?.status == .warn)
        #expect(objects.allSatisfy { $0.host == "th\(index)" })
        // The findings are the run's events: in order with the others on standard output, one JSON object a line.
        let events = failed.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.first?["event"] as? String == "run_start" && events.last?["event"] as? String == "run_end", "\(failed.output)")
        #expect(events.filter { $0["event"] as? String == "finding" }.count == objects.count && !objects.isEmpty)
        let broken = await swiftfab("doctor")
        // The run log keeps them too, also when people were shown the table.
        let logDir = dir + "/.swiftfab/logs"
        let newest = try FileManager.default.contentsOfDirectory(atPath: logDir).sorted().last.map { logDir + "/" + $0 }
        let logged = try String(contentsOfFile: try #require(newest), encoding: .utf8)
        #expect(logged.contains("\"event\":\"finding\"") && logged.contains("\"check\":\"proxy running\""), "\(logged.prefix(2000))")
        let failures = objects.filter { $0.status == .fail }.count
        #expect(broken.status == 2 && lastLine(broken.output).hasPrefix("✗ doctor: \(failures) failure\(failures == 1 ? "" : "s"), 1 warning in "),
                "\(broken.output)")

        // A host that cannot be reached is a failure too, not a warning.
        let gone = await swiftfab("doctor", "-e", "gone")
        #expect(gone.status == 2 && gone.output.contains("127.0.0.1"), "\(gone.output)")

        let logs = await swiftfab("logs", "proxy")
        #expect(logs.status == 0 && logs.output.contains("th\(index)"), "\(logs.output)")
        _ = await remote("rm -rf \(root)/deploy.lock; nginx -c \(proxy.sitesDir)/../nginx.conf")
    }
}

/// Doctor's pieces as values: the bundle's framing, the table and the verdict.
@Suite struct DoctorUnitTests {
    @Test func aBundleIsReadBackPerCheckAndTheTableAligns() throws {
        let checks = [
            DoctorCheck("first", .raw("echo one")) { out in Finding(.ok, out.text) },
            DoctorCheck("second", .raw("exit 3")) { out in Finding(.fail, "exit \(out.status): \(out.lastErrorLine)", hint: "do this") },
            DoctorCheck("hung", .raw("sleep 99")) { _ in Finding(.ok, "never") },
        ]
        let bundle = CheckBundle(checks, timeLimit: 5, marker: "@@m")
        #expect(try bundle.command().rendered().contains("timeout 5 sh -c 'echo one'"))
        let findings = bundle.read("@@m 0 0\none\n@@m err\n@@m 1 3\n@@m err\nit broke\n@@m 2 124\n@@m err\n", host: "web1")
        #expect(findings.map(\.status) == [.ok, .fail, .fail])
        #expect(findings[1].saw == "exit 3: it broke" && findings[1].hint == "do this" && findings[1].host == "web1")
        #expect(findings[2].saw == "no answer within 5s")
        #expect((findings.map(\.status).max() ?? .ok).exitCode == 2)
        #expect([CheckStatus.ok, .warn].max()!.exitCode == 1)
        let table = DoctorReport.table(findings)
        #expect(table[0] == "check   status  what it saw")
        #expect(table[1] == "first   ok      one")
        #expect(table[3] == "                → do this")
        #expect(table.last == "1 ok, 0 warn, 2 fail")
        // A finding that is ok never carries a hint.
        #expect(Finding(.ok, "fine", hint: "unused").hint == nil)
    }

    @Test func logsNameTheRightFiles() throws {
        let app = BlueGreenConfig(app: "shop", command: "run", runtime: .process)
        // The command line, as the task declares it: -f after `logs` is the task's --follow.
        let deployfile = Deployfile("shop") { Environment("x") { Host("h") }; Logs(ServerConfig(app: app)) }
        let line = try TaskCommandLine.parse(["logs", "proxy", "-f", "-n", "7"], deployfile: deployfile)
        #expect(line.options == ["follow": "", "lines": "7"] && line.arguments == ["proxy"] && line.globals.file == nil)
        #expect(throws: CommandLineError.self) { try TaskCommandLine.parse(["logs", "nginx"], deployfile: deployfile) }
        let logs = LogCommands(config: ServerConfig(app: app, proxy: NginxSite(hostname: "shop.example")))
        let proxyLogs = try logs.tail(.proxy, follow: true).rendered()
        #expect(proxyLogs.contains("for f in /var/log/nginx/access.log /var/log/nginx/error.log; do") && proxyLogs.hasSuffix("exec tail -n 50 -F \"$@\""), "\(proxyLogs)")
        #expect(try logs.tail(.green, lines: 5).rendered() == "exec tail -n 5 /srv/shop/run/logs/green.log")
        let containers = LogCommands(config: ServerConfig(app: BlueGreenConfig(app: "shop", command: "run")))
        #expect(try containers.tail(.slot).rendered().contains("exec docker logs --tail 50 shop-\"$live\" 2>&1"))
    }

    /// With the container runtime: the engine is checked, and the live slot's container must run.
    @Test func containerSlotsAreReadFromTheEngine() throws {
        let config = ServerConfig(app: BlueGreenConfig(app: "shop", command: "run"))
        let checks = DoctorChecks(config: config)
        #expect(checks.all().map(\.name).contains("container engine"))
        let slots = checks.slotProcesses()
        #expect(slots.name == "slot containers")
        #expect(slots.read(CheckOutput(status: 0, stdout: "live=blue\nshop-blue=running\nshop-green=exited\n")).status == .ok)
        let down = slots.read(CheckOutput(status: 0, stdout: "live=green\nshop-blue=running\nshop-green=exited\n"))
        #expect(down.status == .fail && down.saw == "the live slot's container shop-green is exited")
        #expect(down.hint?.hasPrefix("docker start shop-green") == true)
        // After a reboot the boot script starts the live slot's container, and the standby unless it was stopped.
        let boot = ProvisionPlan(config: config).bootScriptText()
        #expect(boot.contains("docker start shop-\"$live\" >/dev/null || exit 1\n"), "\(boot)")
        #expect(boot.contains("[ -e /srv/shop/run/\"$s\".stopped ] || [ ! -s /srv/shop/run/\"$s\".release ] || docker start shop-\"$s\""), "\(boot)")
    }

    @Test func backupAgesComeFromTheirNames() {
        #expect(BackupCatalog.stamp(of: "shop-20261121T010203Z.dump")?.timeIntervalSince1970 == 1_795_222_923)
        #expect(BackupCatalog.stamp(of: "manual.dump") == nil)
    }
}
