import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// `provision` on a sandbox host from a bare state: a real user, a real apt
/// install, a real nginx and supervisor; then a second run that changes
/// nothing. System paths point into the host's private /srv (the hosts share
/// /etc and /usr with the machine).
@Suite(.serialized) struct ProvisionTests {
    var hosts: TestHosts { .shared }
    static let index = 40
    var ip: String { hosts.ip(Self.index) }

    /// A sandbox's system directories, nginx (with another app's site already
    /// there) and a system supervisord, all under `sys`.
    static func systemFixture(_ sys: String, ip: String, port: Int) -> (setup: String, proxy: NginxSite, boot: BootService) {
        // Its workers run as Debian's do (www-data), not as the app's user.
        let conf = """
            user www-data;
            worker_processes 1;
            pid \(sys)/nginx/nginx.pid;
            error_log \(sys)/nginx/error.log;
            events { worker_connections 256; }
            http {
                access_log \(sys)/nginx/access.log;
                client_body_temp_path \(sys)/nginx/body; proxy_temp_path \(sys)/nginx/proxy;
                fastcgi_temp_path \(sys)/nginx/fastcgi; uwsgi_temp_path \(sys)/nginx/uwsgi; scgi_temp_path \(sys)/nginx/scgi;
                include \(sys)/nginx/sites/*.conf;
            }
            """
        let other = "server { listen \(ip):\(port); server_name other.example; location / { return 200 \"other app\\n\"; } }\n"
        let supervisor = """
            [unix_http_server]
            file=\(sys)/supervisor/supervisor.sock
            [supervisord]
            pidfile=\(sys)/supervisor/supervisord.pid
            logfile=\(sys)/supervisor/supervisord.log
            childlogdir=\(sys)/supervisor
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
            [supervisorctl]
            serverurl=unix://\(sys)/supervisor/supervisor.sock
            [include]
            files = \(sys)/supervisor/conf.d/*.conf

            """
        let setup = """
            set -e; mkdir -p \(sys)/nginx/sites \(sys)/supervisor/conf.d; printf '%s\\n' \(Shell.quote(conf)) > \(sys)/nginx/nginx.conf; \
            printf '%s' \(Shell.quote(other)) > \(sys)/nginx/sites/other.conf; nginx -c \(sys)/nginx/nginx.conf; \
            printf '%s' \(Shell.quote(supervisor)) > \(sys)/supervisor/supervisord.conf; supervisord -c \(sys)/supervisor/supervisord.conf
            """
        let proxy = NginxSite(hostname: "shop.example", listen: "\(ip):\(port)", sitesDir: "\(sys)/nginx/sites",
                              testCommand: "nginx -t -q -c \(sys)/nginx/nginx.conf", reloadCommand: "nginx -c \(sys)/nginx/nginx.conf -s reload",
                              startCommand: "nginx -c \(sys)/nginx/nginx.conf", pidFile: "\(sys)/nginx/nginx.pid",
                              localURL: "http://\(ip):\(port)", logs: ["\(sys)/nginx/access.log", "\(sys)/nginx/error.log"])
        return (setup, proxy, .supervisor(confDir: "\(sys)/supervisor/conf.d", control: "supervisorctl -c \(sys)/supervisor/supervisord.conf"))
    }

    static func teardown(_ sys: String, root: String) -> String {
        "supervisorctl -c \(root)/run/supervisord.conf shutdown >/dev/null 2>&1; supervisorctl -c \(sys)/supervisor/supervisord.conf shutdown >/dev/null 2>&1; "
            + "nginx -c \(sys)/nginx/nginx.conf -s quit 2>/dev/null; "
            // nginx removes its pid file as it exits: its folder goes after it.
            + "for i in $(seq 100); do [ -e \(sys)/nginx/nginx.pid ] || break; sleep 0.05; done; rm -rf \(root) \(sys)"
    }

    @Test func containerHostsPutTheDeployUserInTheDockerGroup() {
        let containers = BlueGreenConfig(app: "shop", command: "serve")
        let names = ProvisionPlan(config: ServerConfig(app: containers, packages: ["docker.io"])).steps(systemd: false).map(\.name)
        #expect(names.firstIndex(of: "docker group for deploy").map { $0 > names.firstIndex { $0.hasPrefix("packages") }! } == true, "\(names)")
        let processes = BlueGreenConfig(app: "shop", command: "serve", runtime: .process)
        #expect(!ProvisionPlan(config: ServerConfig(app: processes)).steps(systemd: false).contains { $0.name.hasPrefix("docker group") })
        #expect(!ProvisionPlan(config: ServerConfig(app: containers, deployUser: "root")).steps(systemd: false).contains { $0.name.hasPrefix("docker group") })
    }

    @Test(.timeLimit(.minutes(3)), .sandbox) func provisionsABareHostThenChangesNothing() async throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let user = "sfp\(tag)", root = "/srv/prov-\(tag)", sys = "/srv/sys-\(tag)"
        let secret = "s3cret-\(tag)-value"
        let envFile = try TempDir.make().path + "/prod.env"
        try "DATABASE_PASSWORD=\(secret)\nGREETING=hello-\(tag)\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let key = try String(contentsOfFile: hosts.clientKey + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let fixture = Self.systemFixture(sys, ip: ip, port: 18040)
        let app = BlueGreenConfig(app: "shop", root: root, command: "/usr/bin/python3 -m gunicorn --workers 1 --bind unix:{socket} app:app",
                                  healthTimeout: 10, envFile: envFile, runtime: .process)
        // The sandbox's sshd reads keys from its own directory, not from homes.
        let keysFile = hosts.directory + "/authorized_keys/" + user
        var config = ServerConfig(app: app, deployUser: user, authorizedKeys: [key], authorizedKeysFile: keysFile, sudoersDir: "\(sys)/sudoers.d",
                                  packages: ["hello"], proxy: fixture.proxy, boot: fixture.boot, bootScriptDir: "\(sys)/lib")
        let provisioner = Provisioner(config: config)

        try await hosts.withConnection("th\(Self.index)") { connection in
            func remote(_ script: String) async throws -> String {
                try await connection.run(.raw(script)).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            // A bare host: `hello` not installed (a leftover from an aborted run goes first).
            _ = try await remote("DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 remove -y -q hello >/dev/null 2>&1; true")
            let setup = try await connection.run(.raw(fixture.setup))
            #expect(setup.succeeded, "\(setup.stderrText)")
            do {
                // --check changes nothing and says what would change.
                let preview = try await provisioner.provision(on: connection, checkOnly: true)
                #expect(preview.allSatisfy { $0.outcome == .wouldChange }, "\(preview)")
                #expect(preview.first { $0.step.hasPrefix("packages") }?.detail == "to install: hello")
                #expect(try await remote("id -u \(user) >/dev/null 2>&1 && echo exists || echo none") == "none")
                #expect(try await remote("test -e \(root) && echo exists || echo none") == "none")

                let start = monotonicNow()
                let first = try await provisioner.provision(on: connection)
                let firstSeconds = monotonicNow() - start
                #expect(first.allSatisfy { $0.outcome == .changed }, "\(first)")
                #expect(!first.map(\.detail).joined().contains(secret))
                #expect(try await remote("dpkg-query -W -f='${db:Status-Abbrev}' hello") == "ii")
                #expect(try await remote("stat -c '%U %a' \(root) \(root)/releases \(root)/shared \(root)/backups \(root)/run") ==
                        ["755", "755", "750", "750", "2750"].map { "\(user) \($0)" }.joined(separator: "\n"))
                // nginx's workers (another user) reach the slots' sockets through run/'s group.
                #expect(try await remote("stat -c %G \(root)/run") == "www-data")
                #expect(try await remote("stat -c '%U %a' \(root)/shared/.env") == "\(user) 600")
                // It reads the system's logs (Debian's nginx and PostgreSQL logs are adm's, 0640).
                #expect(try await remote("id -nG \(user)").split(separator: " ").contains("adm"))
                #expect(try await remote("grep -c \(secret) \(root)/shared/.env") == "1")
                #expect(try await remote("cat \(sys)/sudoers.d/swiftfab-\(user); stat -c %a \(sys)/sudoers.d/swiftfab-\(user)") == "\(user) ALL=(ALL) NOPASSWD:ALL\n440")

                let startAgain = monotonicNow()
                let second = try await provisioner.provision(on: connection)
                let secondSeconds = monotonicNow() - startAgain
                #expect(second.allSatisfy { $0.outcome == .ok }, "\(second)")
                // One folder changed by hand: provision gives back that one, never touching run/ (nginx's
                // group would lose it for a moment, and a live site's requests with it).
                let runBefore = try await remote("chmod 700 \(root)/backups && stat -c '%z %G %a' \(root)/run")
                let third = try await provisioner.provision(on: connection)
                #expect(third.filter { $0.outcome == .changed }.map(\.step) == ["directories under \(root)"], "\(third)")
                #expect(try await remote("stat -c %a \(root)/backups") == "750")
                #expect(try await remote("stat -c '%z %G %a' \(root)/run") == runBefore)
                print("provision: first run \(Format.seconds(firstSeconds)) (\(ProvisionReport.summary(first))), second \(Format.seconds(secondSeconds)) (\(ProvisionReport.summary(second)))")

                // The authorized key lets the new user in over SSH, and it can deploy into its directories.
                let (sshConfig, options) = try hosts.customConfig(hosts.block("as-deploy", index: Self.index, user: user))
                let asUser = try await SSHConnection.connect("as-deploy", config: sshConfig, options: options)
                #expect(try await asUser.run(.raw("id -un")).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == user)
                let repo = try await BlueGreenTests.appRepository()
                let deployed = try await BlueGreenDeployer(config: app).deploy(on: asUser, repository: try GitRepository(discoveringFrom: repo),
                                                                               revision: "HEAD", deployer: "ci")
                await asUser.close()
                // nginx routes by host name: this app to its live slot, the other app's site untouched.
                let viaProxy = "curl -s --max-time 5 -H 'Host: shop.example' http://\(ip):18040/"
                #expect(try await remote(viaProxy + "greeting") == "hello-\(tag)")
                #expect(try await remote("curl -s --max-time 5 -H 'Host: other.example' http://\(ip):18040/") == "other app")
                #expect(deployed.slot == .blue)

                // After a "reboot" (the app's supervisord and slots gone), the boot program brings the live slot back.
                let control = "supervisorctl -c \(sys)/supervisor/supervisord.conf"
                #expect(try await remote("supervisorctl -c \(root)/run/supervisord.conf shutdown >/dev/null; for i in $(seq 100); do "
                    + "c=$(\(viaProxy)healthz -o /dev/null -w '%{http_code}'); [ \"$c\" = 502 ] && break; sleep 0.1; done; echo \"$c\"") == "502")
                let bootRun = try await remote("\(control) start swiftfab-shop >/dev/null 2>&1; for i in $(seq 100); do "
                    + "s=$(\(control) status swiftfab-shop); case \"$s\" in *EXITED*) break;; esac; sleep 0.1; done; echo \"$s\"")
                #expect(bootRun.contains("EXITED") && !bootRun.contains("not expected"), "\(bootRun)")
                #expect(try await remote("for i in $(seq 50); do [ \"$(\(viaProxy)healthz)\" = ok ] && break; sleep 0.2; done; \(viaProxy)greeting") == "hello-\(tag)")

                // A second deploy leaves blue warm; once swiftfab stops it (as a delayed stop does),
                // a reboot brings back the live slot only: the standby stays as it was.
                let again = try await SSHConnection.connect("as-deploy", config: sshConfig, options: options)
                let redeployed = try await BlueGreenDeployer(config: app).deploy(on: again, repository: try GitRepository(discoveringFrom: repo),
                                                                             revision: "HEAD", deployer: "ci")
                #expect(redeployed.slot == .green)
                #expect(try await again.run(SlotCommands(config: app).stop(.blue)).succeeded)
                await again.close()
                let slots = "supervisorctl -c \(root)/run/supervisord.conf status"
                _ = try await remote("supervisorctl -c \(root)/run/supervisord.conf shutdown >/dev/null")
                let secondBoot = try await remote("\(control) start swiftfab-shop >/dev/null 2>&1; for i in $(seq 100); do "
                    + "s=$(\(control) status swiftfab-shop); case \"$s\" in *EXITED*) break;; esac; sleep 0.1; done; echo \"$s\"")
                #expect(secondBoot.contains("EXITED") && !secondBoot.contains("not expected"), "\(secondBoot)")
                #expect(try await remote("for i in $(seq 50); do [ \"$(\(viaProxy)healthz)\" = ok ] && break; sleep 0.2; done; \(viaProxy)greeting") == "hello-\(tag)")
                let afterBoot = try await remote(slots)
                #expect(afterBoot.contains("shop-green") && afterBoot.range(of: "shop-green +RUNNING", options: .regularExpression) != nil, "\(afterBoot)")
                #expect(afterBoot.range(of: "shop-blue +STOPPED", options: .regularExpression) != nil, "\(afterBoot)")

                // On a systemd host the unit does the same: systemd's own verifier accepts it, and what it starts
                // at boot (its ExecStart, as its User) brings the live slot back with the standby still stopped.
                var systemdConfig = config
                systemdConfig.boot = .systemd(unitDir: "\(sys)/systemd")
                let unitPlan = ProvisionPlan(config: systemdConfig)
                let unit = "\(sys)/systemd/\(unitPlan.bootName).service"
                _ = try await remote("mkdir -p \(sys)/systemd && printf '%s' \(Shell.quote(unitPlan.systemdUnit())) > \(unit)")
                let verified = try await remote("systemd-analyze verify --man=no \(unit) 2>&1; echo \"exit $?\"")
                #expect(verified.hasSuffix("exit 0") && !verified.contains("\(unitPlan.bootName).service:"), "\(verified)")
                _ = try await remote("supervisorctl -c \(root)/run/supervisord.conf shutdown >/dev/null")
                let unitBoot = try await remote("runuser -u \"$(sed -n 's/^User=//p' \(unit))\" -- /bin/sh -c \"$(sed -n 's/^ExecStart=//p' \(unit))\" 2>&1; echo \"exit $?\"")
                #expect(unitBoot.hasSuffix("exit 0"), "\(unitBoot)")
                #expect(try await remote("for i in $(seq 50); do [ \"$(\(viaProxy)healthz)\" = ok ] && break; sleep 0.2; done; \(viaProxy)greeting") == "hello-\(tag)")
                let afterUnit = try await remote(slots)
                #expect(afterUnit.range(of: "shop-green +RUNNING", options: .regularExpression) != nil, "\(afterUnit)")
                #expect(afterUnit.range(of: "shop-blue +STOPPED", options: .regularExpression) != nil, "\(afterUnit)")

                // A proxy site nginx rejects is not kept: the previous one is back and still serves.
                let siteBefore = try await remote("cat \(sys)/nginx/sites/shop.conf")
                config.proxy?.extraDirectives = ["bogus_directive on;"]
                let broken = try await Provisioner(config: config).provision(on: connection)
                let proxyStep = broken.first { $0.step.hasPrefix("proxy site") }
                #expect(proxyStep?.outcome == .failed && proxyStep?.detail.contains("bogus_directive") == true, "\(broken)")
                #expect(broken.last?.outcome == .skipped)
                #expect(try await remote("cat \(sys)/nginx/sites/shop.conf") == siteBefore)
                #expect(try await remote(viaProxy + "greeting") == "hello-\(tag)")

                // A sudoers rule visudo rejects is never installed: the valid one stays.
                var badRule = config
                badRule.sudoersRule = "\(user) ALL=(ALL NOPASSWD: ALL"
                let refused = try await ProvisionRunner().run([ProvisionPlan(config: badRule).deployUser()], on: connection)
                #expect(refused.first?.outcome == .failed && refused.first?.detail.contains("visudo -c rejects the sudoers rule") == true, "\(refused)")
                #expect(try await remote("cat \(sys)/sudoers.d/swiftfab-\(user); ls -A \(sys)/sudoers.d | wc -l") == "\(user) ALL=(ALL) NOPASSWD:ALL\n1")
            } catch {
                Issue.record(error)
            }
            // userdel refuses while the user's processes (the slots, stopping) still run.
            _ = try await remote(Self.teardown(sys, root: root) + "; for i in $(seq 100); do pgrep -u \(user) >/dev/null || break; sleep 0.1; done; "
                                 + "userdel -r \(user) 2>/dev/null; rm -f \(keysFile); "
                                 + "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 remove -y -q hello >/dev/null 2>&1; true")
            #expect(try await remote("id -u \(user) >/dev/null 2>&1 && echo left || echo gone") == "gone")
        }
    }

    /// The plan as values: the second run of a step whose check passes never applies it.
    @Test func aStepWhoseCheckPassesIsNotApplied() async throws {
        let backend = RecordingBackend(host: "web1")
        let config = ServerConfig(app: BlueGreenConfig(app: "shop", command: "run"), packages: ["hello"], boot: .none)
        let steps = ProvisionPlan(config: config).steps(systemd: false)
        #expect(steps.map(\.name) == ["deploy user deploy (keys, sudoers)", "packages hello", "docker group for deploy", "directories under /srv/shop"])
        backend.respond(to: "dpkg-query", with: CommandResult(exitStatus: 1, stdout: Data("to install: hello\n".utf8)))
        let reports = try await ProvisionRunner(checkOnly: true).run(steps, on: backend)
        #expect(reports.map(\.outcome) == [.ok, .wouldChange, .ok, .ok])
        #expect(!backend.commands.contains { $0.contains("apt-get") })
        // Sudo wraps every system command when asked.
        var sudoConfig = config
        sudoConfig.sudo = true
        #expect(ProvisionPlan(config: sudoConfig).steps(systemd: false).allSatisfy { (try? $0.apply.rendered())?.hasPrefix("sudo -n") == true })
        // The systemd unit runs the boot script as the deploy user.
        let plan = ProvisionPlan(config: ServerConfig(app: BlueGreenConfig(app: "shop", command: "run"), boot: .automatic))
        #expect(plan.bootService(systemd: true)?.name == "systemd unit swiftfab-shop.service (slots back after a reboot)")
        #expect(plan.systemdUnit().contains("User=deploy\nExecStart=/bin/sh /usr/local/lib/swiftfab/shop-boot.sh"))
    }
}
