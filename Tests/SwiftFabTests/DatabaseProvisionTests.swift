import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// Through the real `swiftfab` on a sandbox host: provision sets up the app's
/// database in a real PostgreSQL cluster (the host's /etc is the machine's,
/// so the server's commands point at a cluster of the test's own), a second
/// run changes nothing, a changed password is applied, and the password shows
/// nowhere: not in the output, `--json`, `--dry-run`, the run logs, the
/// server's log (every statement logged), nor any command line on the host.
/// Then doctor's login check, ok and failing.
@Suite(.serialized, .sandbox) struct DatabaseProvisionTests {
    var hosts: TestHosts { .shared }
    static let index = 48
    let cli = DeployfileCLITests()

    static let deployfile = """
        import Foundation
        import SwiftFab
        import SwiftFabRecipes

        let env = ProcessInfo.processInfo.environment
        let app = BlueGreenConfig(app: "dbt", root: env["DBT_ROOT"]!, command: "unused", runtime: .process)
        let database = PostgresConfig(database: "shopdb", user: "shopapp", host: env["DBT_IP"], port: 5432,
                                      passwordSetting: "db_password", backups: env["DBT_ROOT"]! + "/backups")
        let server = PostgresServer(psql: env["DBT_PSQL"]!, client: env["DBT_CLIENT"]!,
                                    readyCommand: env["DBT_READY"]!, startCommand: env["DBT_START"]!)
        let deployfile = Deployfile("dbt") {
            Environment("test", default: true) { Host(env["DBT_HOST"]!, roles: .web, .db) }
            Setting("db_password", .secret(env: "DBT_PASSWORD"))
            ServerTasks(ServerConfig(app: app, deployUser: "root", sudoersDir: env["DBT_SYS"]! + "/sudoers.d", packages: [], boot: .none)
                .watching(database, server: server))
        }
        """

    @Test(.timeLimit(.minutes(6))) func setsUpTheRoleAndDatabaseAndNeverShowsThePassword() async throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (first, second) = ("pw1-\(tag)-Q'x", "pw2-\(tag)-\\z")
        let cluster = try await PostgresCluster.start(hosts, index: Self.index, password: "super-\(tag)")
        defer { cluster.stopBlocking() }
        let sys = "/srv/dbsys-\(tag)", root = "/srv/dbapp-\(tag)", bin = PostgresCluster.bin, dir = cluster.dir
        // Every statement the server runs goes to its log; the wrapper writes the host's process list
        // while the step's commands (and their parents) run.
        await cluster.sql("ALTER SYSTEM SET log_statement = 'all'")
        // A cluster made where no UTF-8 locale was set: its default encoding is SQL_ASCII, the app's database must not be.
        await cluster.sql("UPDATE pg_database SET encoding = pg_char_to_encoding('SQL_ASCII'), datcollate = 'C', datctype = 'C' WHERE datname = 'template1'")
        await cluster.stop()
        let snap = "#!/bin/sh\nps -eo args >> \(sys)/ps.log\nexec \"$@\"\n"
        #expect(await cluster.remote("mkdir -p \(sys) && printf '%s' \(Shell.quote(snap)) > \(sys)/snap && chmod 755 \(sys)/snap").status == 0)
        let project = try cli.project(Self.deployfile)
        let environment = ["DBT_ROOT": root, "DBT_SYS": sys, "DBT_IP": cluster.ip, "DBT_HOST": cluster.alias,
                           "DBT_PSQL": "\(sys)/snap runuser -u postgres -- \(bin)/psql -h \(dir) -p \(cluster.port)",
                           "DBT_CLIENT": "\(sys)/snap \(bin)/psql",
                           "DBT_READY": "\(bin)/pg_isready -q -U postgres -h \(dir) -p \(cluster.port)",
                           "DBT_START": "runuser -u postgres -- \(bin)/pg_ctl -D \(dir)/data -l \(dir)/server.log -w -o "
                               + Shell.quote("-c listen_addresses=\(cluster.ip) -p \(cluster.port) -k \(dir)") + " start </dev/null >/dev/null"]
        var outputs: [String] = []
        func swiftfab(_ arguments: String..., password: String?) async -> (status: Int32, output: String) {
            let run = await cli.swiftfab(arguments + ["-F", hosts.sshConfig], in: project,
                                         environment: environment.merging(password.map { ["DBT_PASSWORD": $0] } ?? [:]) { _, new in new },
                                         unsetting: password == nil ? ["DBT_PASSWORD"] : [])
            outputs.append(run.output)
            return run
        }
        /// Logs in over TCP as the app does, from this machine.
        func login(_ password: String) async -> (status: Int32, output: String) {
            await Shell.runLocally(["\(bin)/psql", "-X", "-A", "-t", "-h", cluster.ip, "-p", String(cluster.port), "-U", "shopapp", "-d", "shopdb",
                                    "-c", "SELECT current_user || ' ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()"],
                                   environment: ["PGPASSWORD": password])
        }
        func stored() async -> String { await cluster.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'shopapp'") }

        do {
            // No password variable: stopped before anything changes (the server is not even started).
            let missing = await swiftfab("provision", password: nil)
            #expect(missing.status != 0 && missing.output.contains("DBT_PASSWORD"), "\(missing.output)")
            #expect(await cluster.remote("\(bin)/pg_isready -q -h \(dir) -p \(cluster.port) || echo down; test -e \(sys)/ps.log && echo ran").output == "down\n")

            let dry = await swiftfab("provision", "--dry-run", "-v", password: first)
            #expect(dry.status == 0 && dry.output.contains("SWIFTFAB_DB_STORED=[secret]") && dry.output.contains("set up: database role shopapp"), "\(dry.output)")

            // A fresh cluster: the server is started, the role and the database made.
            let made = await swiftfab("provision", password: first)
            #expect(made.status == 0, "\(made.output)")
            for line in ["changed      PostgreSQL server (postgresql) for the database shopdb: PostgreSQL does not accept connections",
                         "changed      database role shopapp (LOGIN, the password of setting db_password): no role shopapp",
                         "changed      database shopdb (owned by shopapp): no database shopdb"] {
                #expect(made.output.contains(line), "\(line)\n\(made.output)")
            }
            #expect(await login(first).output.trimmingCharacters(in: .whitespacesAndNewlines) == "shopapp UTF8")
            // Stored as the server itself would: the SCRAM verifier of this password with the stored salt.
            let verifier = await stored()
            let fields = verifier.split(separator: "$")
            #expect(fields.count == 3 && fields[0] == "SCRAM-SHA-256", "\(verifier)")
            let salt = Array(Data(base64Encoded: String(fields[1].split(separator: ":")[1])) ?? Data())
            #expect(SCRAMVerifier.text(Array(first.utf8), salt: salt, iterations: 4096) == verifier)
            #expect(await cluster.sql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'shopdb'") == "shopapp")

            // Again: nothing to do.
            let again = await swiftfab("provision", password: first)
            #expect(again.status == 0 && again.output.contains("5 ok") && !again.output.contains("changed"), "\(again.output)")
            #expect(await stored() == verifier)

            // A changed password is applied, and said so; the old one no longer logs in.
            let changed = await swiftfab("provision", "--json", password: second)
            #expect(changed.status == 0, "\(changed.output)")
            #expect(changed.output.contains("changed      database role shopapp (LOGIN, the password of setting db_password): role shopapp does not log in at \(cluster.ip):5432 with the password of setting db_password"), "\(changed.output)")
            #expect(changed.output.contains("password authentication failed for user"), "\(changed.output)")
            #expect(await login(second).status == 0)
            #expect(await login(first).output.contains("password authentication failed"))
            let settled = await swiftfab("provision", password: second)
            #expect(settled.status == 0 && !settled.output.contains("changed"), "\(settled.output)")

            // doctor: the role logs in as the app does; a wrong password, or none, fails and says what to do.
            func loginFinding(_ password: String?) async throws -> [String: Any] {
                let run = await swiftfab("doctor", "--json", password: password)
                let lines = run.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                return try #require(lines.first { $0["check"] as? String == "database login" }, "\(run.output)")
            }
            let ok = try await loginFinding(second)
            #expect(ok["status"] as? String == "ok" && ok["saw"] as? String == "shopapp logs in to shopdb at \(cluster.ip):5432 with the password of setting db_password", "\(ok)")
            let wrong = try await loginFinding(first)
            #expect(wrong["status"] as? String == "fail" && (wrong["saw"] as? String)?.contains("password authentication failed for user \"shopapp\"") == true, "\(wrong)")
            #expect((wrong["hint"] as? String)?.contains("swiftfab provision") == true, "\(wrong)")
            let unset = try await loginFinding(nil)
            #expect(unset["status"] as? String == "fail" && (unset["saw"] as? String)?.contains("DBT_PASSWORD") == true, "\(unset)")

            // The password showed nowhere; the verifier neither; the process lists were written while the steps ran.
            let processes = await cluster.remote("cat \(sys)/ps.log").output
            #expect(processes.contains("runuser -u postgres -- \(bin)/psql") && processes.contains("-U shopapp"), "\(processes.suffix(2000))")
            let serverLog = await cluster.remote("cat \(dir)/server.log").output
            #expect(serverLog.contains("statement: SELECT coalesce") && !serverLog.contains("FATAL:  role"), "\(serverLog.suffix(2000))")
            let logs = try FileManager.default.contentsOfDirectory(atPath: project + "/.swiftfab/logs").filter { $0.hasSuffix(".log") }
            #expect(logs.count >= 7, "\(logs)")
            let runLogs = try logs.map { try String(contentsOfFile: project + "/.swiftfab/logs/" + $0, encoding: .utf8) }
            let places = [("the host's process lists", processes), ("the server's log", serverLog)]
                + outputs.map { ("output", $0) } + runLogs.map { ("a run log", $0) }
            for (place, text) in places {
                for secret in [first, second, "pw1-\(tag)", "pw2-\(tag)", "SCRAM-SHA-256$4096"] {
                    #expect(!text.contains(secret), "\(place) shows \(secret)")
                }
            }
        } catch {
            Issue.record(error)
        }
        _ = await cluster.remote("rm -rf \(sys) \(root)")
    }

    /// The seeds' stack: PostgreSQL as a docker-compose service on a real
    /// Docker Engine in the host. Provision brings the service up and sets
    /// the role and the database up through `docker-compose exec`.
    @Test(.timeLimit(.minutes(6))) func setsUpTheDatabaseOfAComposeService() async throws {
        try await hosts.withConnection("th4") { connection in
            let docker = try await DockerEngine.start(in: "th4", on: connection, images: [DockerEngine.postgresImage])
            do {
                try await composeService(docker, on: connection)
            } catch {
                try? await docker.stop(on: connection)
                throw error
            }
            try await docker.stop(on: connection)
        }
    }

    private func composeService(_ docker: DockerEngine, on connection: SSHConnection) async throws {
        let tag = UUID().uuidString.prefix(6).lowercased(), password = "compose-\(tag)-pw"
        let cluster = try await PostgresCluster.start(hosts, index: 4, password: "super-\(tag)", in: docker)
        defer { cluster.stopBlocking() }
        let service = try #require(cluster.compose)
        let sys = "/srv/dbcsys-\(tag)", root = "/srv/dbc-\(tag)"
        // Down: provision brings it up.
        #expect(await cluster.remote("\(docker.compose) -f \(service.file) stop 2>&1").status == 0)
        let database = PostgresConfig(database: "shopdb", user: "shopapp", host: cluster.ip, port: cluster.port, passwordSetting: "db_password",
                                      runsIn: .compose(service: service.service, file: service.file, engine: docker.compose))
        let app = BlueGreenConfig(app: "dbc", root: root, command: "unused", runtime: .process)
        var config = ServerConfig(app: app, deployUser: "root", sudoersDir: sys + "/sudoers.d", packages: [], boot: .none).watching(database)
        config.database?.password = Secret(password)
        do {
            let first = try await Provisioner(config: config).provision(on: connection)
            #expect(first.map(\.step) == ["deploy user root (keys, sudoers)", "PostgreSQL in the compose service db for the database shopdb",
                                          "database role shopapp (LOGIN, the password of setting db_password)", "database shopdb (owned by shopapp)",
                                          "directories under \(root)"], "\(first)")
            #expect(first.allSatisfy { $0.outcome == .changed }, "\(first)")
            let login = await Shell.runLocally(["\(PostgresCluster.bin)/psql", "-X", "-A", "-t", "-h", cluster.ip, "-U", "shopapp", "-d", "shopdb",
                                                "-c", "SELECT current_user"], environment: ["PGPASSWORD": password])
            #expect(login.output == "shopapp\n", "\(login.output)")
            let second = try await Provisioner(config: config).provision(on: connection)
            #expect(second.allSatisfy { $0.outcome == .ok }, "\(second)")
            // doctor logs in through the service, as the app's container would.
            let findings = try await DoctorRun(config: config).findings(on: connection)
            let found = findings.first { $0.check == "database login" }
            #expect(found?.status == .ok && found?.saw == "shopapp logs in to shopdb at \(cluster.ip):5432 with the password of setting db_password", "\(findings)")
        } catch {
            Issue.record(error)
        }
        _ = await cluster.remote("rm -rf \(sys) \(root)")
    }
}
