import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// On a fresh Debian 12 server (`scripts/freshhosts`), through the real
/// `swiftfab` and a Deployfile as `swiftfab init` writes one, with every
/// default: provision installs PostgreSQL from Debian's packages, creates the
/// app's role and database, and after a reboot the app's role still logs in.
@Suite(.serialized, .sandbox) struct DatabaseFreshHostTests {
    var hosts: FreshHosts { .shared }
    let cli = DeployfileCLITests()
    /// Host 2: FreshHostTests and the quick start run on host 1 at the same time.
    static let host = 2

    static let deployfile = """
        import SwiftFab
        import SwiftFabRecipes

        let app = BlueGreenConfig(app: "shop", command: "unused", runtime: .process)
        let database = PostgresConfig(database: "shop", user: "shop", host: "127.0.0.1", passwordSetting: "db_password")
        let deployfile = Deployfile("shop") {
            Environment("fresh", default: true) { Host("fresh2", roles: .web, .db) }
            Setting("db_password", .secret(env: "SHOP_DB_PASSWORD"))
            ServerTasks(ServerConfig(app: app).watching(database))
        }
        """

    @Test(.timeLimit(.minutes(15))) func provisionInstallsPostgreSQLAndTheRoleLogsIn() async throws {
        try await FreshHosts.started()
        try await hosts.reset(Self.host)
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (first, second) = ("fresh-\(tag)-one", "fresh-\(tag)-two")
        let project = try cli.project(Self.deployfile)
        func swiftfab(_ arguments: String..., password: String) async -> (status: Int32, output: String) {
            await cli.swiftfab(arguments + ["-F", hosts.sshConfig], in: project, environment: ["SHOP_DB_PASSWORD": password])
        }
        /// On the host, as the app would: psql over TCP with the password (on the command's stdin, as PGPASSWORD).
        func login(_ connection: SSHConnection, _ password: String) async throws -> CommandResult {
            try await connection.run(Command(shell: """
                psql -X -A -t -h 127.0.0.1 -U shop -d shop -c "SELECT current_user || ' ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'shop'"
                """).with(secretEnvironment: ["PGPASSWORD": Secret(password)]))
        }

        let start = monotonicNow()
        let made = await swiftfab("provision", password: first)
        let firstSeconds = monotonicNow() - start
        #expect(made.status == 0, "\(made.output)")
        for line in ["changed      packages: curl for health checks, supervisor for the slots' processes: to install: supervisor",
                     "changed      PostgreSQL server (postgresql) for the database shop: to install: postgresql",
                     "changed      database role shop (LOGIN, the password of setting db_password): no role shop",
                     "changed      database shop (owned by shop): no database shop"] {
            #expect(made.output.contains(line), "\(line)\n\(made.output)")
        }
        try await hosts.withConnection(hosts.alias(Self.host)) { connection in
            // Debian's server, started and enabled by systemd, storing passwords as SCRAM-SHA-256.
            #expect(try await FreshHostTests.run(connection, "systemctl is-active postgresql; systemctl is-enabled postgresql") == "active\nenabled")
            #expect(try await FreshHostTests.run(connection, "cd / && runuser -u postgres -- psql -Atc 'SHOW password_encryption'") == "scram-sha-256")
            let logged = try await login(connection, first)
            #expect(logged.stdoutText == "shop UTF8\n", "\(logged.stderrText)")
            #expect(try await FreshHostTests.run(connection, "cd / && runuser -u postgres -- psql -Atc \"SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'shop'\"")
                    == "SCRAM-SHA-256$")
        }
        let startAgain = monotonicNow()
        let again = await swiftfab("provision", password: first)
        let againSeconds = monotonicNow() - startAgain
        #expect(again.status == 0 && !again.output.contains("changed"), "\(again.output)")
        print("fresh host: first provision \(Format.seconds(firstSeconds)), second \(Format.seconds(againSeconds))")

        let changed = await swiftfab("provision", password: second)
        #expect(changed.status == 0 && changed.output.contains("changed      database role shop"), "\(changed.output)")
        #expect(!(made.output + again.output + changed.output).contains(first) && !changed.output.contains(second))

        // After a reboot systemd starts PostgreSQL again, and doctor sees the role log in.
        try await hosts.reboot(Self.host)
        let doctor = await swiftfab("doctor", "--json", password: second)
        let findings = doctor.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let loginFinding = findings.first { $0["check"] as? String == "database login" }
        #expect(loginFinding?["status"] as? String == "ok"
                && loginFinding?["saw"] as? String == "shop logs in to shop at 127.0.0.1:5432 with the password of setting db_password",
                "\(doctor.output)")
        try await hosts.withConnection(hosts.alias(Self.host)) { connection in
            let (current, previous) = (try await login(connection, second), try await login(connection, first))
            #expect(current.succeeded && !previous.succeeded, "\(current.stderrText)")
        }
    }
}
