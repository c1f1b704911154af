import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// What provision installs and sets up for a config, and where the database
/// password goes, as values (no host).
@Suite struct DatabasePlanTests {
    static let containers = BlueGreenConfig(app: "shop", command: "serve")
    static let processes = BlueGreenConfig(app: "shop", command: "serve", runtime: .process)
    static let local = PostgresConfig(database: "shop", user: "shop", host: "127.0.0.1", passwordSetting: "db_password")

    static func names(_ config: ServerConfig, systemd: Bool = true) -> [String] {
        config.neededPackages(systemd: systemd).map(\.name)
    }

    @Test func packagesFollowTheConfig() {
        // Containers: docker, and compose only with compose files; no git, no supervisor where systemd boots the slots.
        #expect(Self.names(ServerConfig(app: Self.containers)) == ["curl", "docker.io"])
        #expect(Self.names(ServerConfig(app: Self.containers), systemd: false) == ["curl", "docker.io", "supervisor"])
        #expect(Self.names(ServerConfig(app: Self.containers, composeFiles: ["/srv/shop/compose.yml"])) == ["curl", "docker.io", "docker-compose"])
        #expect(Self.names(ServerConfig(app: Self.containers, boot: .none), systemd: false) == ["curl", "docker.io"])
        #expect(Self.names(ServerConfig(app: BlueGreenConfig(app: "shop", command: "serve", runtime: .container(ContainerRuntime(engine: "podman"))))) == ["curl", "podman"])
        // Processes: supervisor, never docker; a proxy adds nginx.
        #expect(Self.names(ServerConfig(app: Self.processes, proxy: NginxSite(hostname: "shop.example.com"))) == ["curl", "supervisor", "nginx"])
        // The database on the server: its own step installs the server (with its client tools).
        #expect(Self.names(ServerConfig(app: Self.processes).watching(Self.local)) == ["curl", "supervisor"])
        // Elsewhere: the client tools only; in a compose service: the engine, and the client for pg_isready.
        #expect(Self.names(ServerConfig(app: Self.processes).watching(PostgresConfig(database: "shop", host: "db.internal")))
                == ["curl", "supervisor", "postgresql-client"])
        let composed = PostgresConfig(database: "shop", runsIn: .compose(service: "db", file: "/srv/db.yml", engine: "docker-compose"))
        #expect(Self.names(ServerConfig(app: Self.processes).watching(composed)) == ["curl", "supervisor", "docker.io", "docker-compose", "postgresql-client"])
        // packages: replaces the list.
        #expect(Self.names(ServerConfig(app: Self.containers, packages: ["hello"]).watching(Self.local)) == ["hello"])
        for config in [ServerConfig(app: Self.containers, composeFiles: ["/x.yml"]), ServerConfig(app: Self.processes, proxy: NginxSite(hostname: "x"))] {
            #expect(!Self.names(config, systemd: false).contains("git"))
        }
    }

    @Test func theStepsSayWhatIsInstalledAndWhy() {
        let plain = ProvisionPlan(config: ServerConfig(app: Self.containers, proxy: NginxSite(hostname: "shop.example.com"))).steps(systemd: true)
        #expect(plain.map(\.name).contains("packages: curl for health checks, docker.io for the slots' containers, nginx for the proxy site"), "\(plain.map(\.name))")
        #expect(!plain.contains { $0.name.contains("PostgreSQL") || $0.name.hasPrefix("database") })

        var withPassword = ServerConfig(app: Self.processes, packages: ["hello"]).watching(Self.local)
        withPassword.database?.password = Secret("pw")
        let names = ProvisionPlan(config: withPassword).steps(systemd: true).map(\.name)
        #expect(names == ["deploy user deploy (keys, sudoers)", "packages hello", "PostgreSQL server (postgresql) for the database shop",
                          "database role shop (LOGIN, the password of setting db_password)", "database shop (owned by shop)",
                          "directories under /srv/shop", "systemd unit swiftfab-shop.service (slots back after a reboot)"], "\(names)")
        // A database elsewhere, or one provision is told to leave alone, has no steps.
        for config in [ServerConfig(app: Self.processes).watching(PostgresConfig(database: "shop", host: "db.internal")),
                       ServerConfig(app: Self.processes).watching(Self.local, server: nil),
                       ServerConfig(app: Self.processes).watching(PostgresConfig(database: "shop", runsIn: .container("pg")))] {
            #expect(!ProvisionPlan(config: config).steps(systemd: true).contains { $0.name.hasPrefix("database") })
        }
        // In a compose service: brought up and reached through compose, as the deploy user (in the docker group), never as root.
        let composed = ServerConfig(app: Self.processes).watching(PostgresConfig(database: "shop", user: "shop", host: "127.0.0.1",
                                                                                 runsIn: .compose(service: "db", file: "/srv/shop/compose.yml", engine: "docker-compose")))
        let composeSteps = ProvisionPlan(config: composed).steps(systemd: true)
        #expect(composeSteps.map(\.name).contains("PostgreSQL in the compose service db for the database shop"), "\(composeSteps.map(\.name))")
        #expect(composeSteps.map(\.name).contains("docker group for deploy"))
        let start = composeSteps.first { $0.name.hasPrefix("PostgreSQL") }!.apply.display
        #expect(start.contains("runuser -u deploy -- docker-compose -f /srv/shop/compose.yml up -d db"), "\(start)")
        // A host without the database's roles gets no database steps (nor doctor's login check).
        let config = ServerConfig(app: Self.processes).watching(Self.local)
        #expect(config.forHost(HostDefinition(address: "web2", roles: [.web])).database == nil)
        #expect(config.forHost(HostDefinition(address: "web1", roles: [.web, .db])).database != nil)
    }

    /// psql's \set reads the verifier on stdin; the login check's PGPASSWORD
    /// travels on stdin too: no command line holds the password.
    @Test func thePasswordIsOnNoCommandLine() throws {
        let password = "pw-\(UUID().uuidString.prefix(8))-o'k\\x"
        var config = ServerConfig(app: Self.processes, sudo: true).watching(Self.local)
        config.database?.password = Secret(password)
        let steps = ProvisionPlan(config: config).steps(systemd: true).filter { $0.name.hasPrefix("database role") }
        #expect(steps.count == 1)
        for command in [steps[0].check, steps[0].apply] {
            let (text, stdin) = try command.renderedWithSecretsOnStdin()
            #expect(!text.contains(password) && !text.contains("SCRAM-SHA-256$4096"), "\(text)")
            #expect(!command.display.contains(password))
            #expect(!String(decoding: stdin, as: UTF8.self).isEmpty)
            #expect(text.hasPrefix("sudo -n -- sh -c "), "\(text)")
        }
        let checkInput = String(decoding: try steps[0].check.renderedWithSecretsOnStdin().stdin, as: UTF8.self)
        #expect(checkInput == password + "\n")
        // What psql reads: `\set password '<verifier>'`, the verifier of this password.
        let applied = String(decoding: try steps[0].apply.renderedWithSecretsOnStdin().stdin, as: UTF8.self)
        #expect(applied.hasPrefix("'SCRAM-SHA-256$4096:") && applied.hasSuffix("'\n") && !applied.contains(password), "\(applied)")

        // Doctor's bundle: the login check's password reaches the bundle on its stdin, and that check alone.
        let bundle = CheckBundle(DoctorChecks(config: config).all())
        let (text, stdin) = try bundle.command().renderedWithSecretsOnStdin()
        #expect(!text.contains(password), "\(text)")
        #expect(String(decoding: stdin, as: UTF8.self) == password + "\n")
        #expect(text.contains("PGPASSWORD=\"$_check_"), "\(text)")
    }

    /// Checked against a verifier PostgreSQL 15 made itself (`CREATE ROLE w PASSWORD '...'`).
    @Test func theVerifierIsPostgresQLs() throws {
        let salt = Array(try #require(Data(base64Encoded: "WlK2uomICKQZvR5wVMeRDQ==")))
        let made = try #require(SCRAMVerifier.make(Secret("correct horse battery staple"), salt: salt))
        #expect(made.reveal() == "SCRAM-SHA-256$4096:WlK2uomICKQZvR5wVMeRDQ==$kHIxh4DWw2+gllTOf+MZvt3yU2S/+SQwWJLGcqsnIcI=:6O6q1QWKu8d2zGTf7Jy21DreqJqOfgf6WqMK0EQyGWA=")
        #expect(made.description == "[secret]")
        // Beyond ASCII the server prepares the password (SASLprep): it is given the password itself.
        #expect(SCRAMVerifier.make(Secret("pässword")) == nil)
        // Two verifiers of one password differ (their salts), both PostgreSQL's format.
        let one = try #require(SCRAMVerifier.make(Secret("x"))).reveal(), two = try #require(SCRAMVerifier.make(Secret("x"))).reveal()
        #expect(one != two && one.range(of: #"^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$"#, options: .regularExpression) != nil, "\(one)")
    }

    /// An unset password variable stops provision while it is planned: no host is asked anything.
    @Test func aMissingPasswordStopsProvisionBeforeAnyHostIsAsked() async throws {
        let app = BlueGreenConfig(app: "shop", command: "serve", runtime: .process)
        let deployfile = Deployfile("shop") {
            Environment("production") { Host("web1", roles: .web, .db) }
            Setting("db_password", .secret(env: "SHOP_DB_PASSWORD"))
            ServerTasks(ServerConfig(app: app).watching(Self.local))
        }
        let settings = try deployfile.resolveSettings(for: deployfile.environments.first, source: SettingsSource(environment: [:]))
        let harness = RecordingHarness(deployfile, hosts: [HostDefinition(address: "web1", roles: [.web, .db])], settings: settings)
        #expect(await harness.runner.run("provision") == false)
        #expect(harness.events.text.contains("SHOP_DB_PASSWORD"), "\(harness.events.text)")
        #expect(harness.commands("web1").isEmpty)
        // A password of several lines is refused there too.
        let twoLines = try deployfile.resolveSettings(for: deployfile.environments.first, source: SettingsSource(environment: ["SHOP_DB_PASSWORD": "a\r\nb"]))
        let refused = RecordingHarness(deployfile, hosts: [HostDefinition(address: "web1", roles: [.web, .db])], settings: twoLines)
        #expect(await refused.runner.run("provision") == false)
        #expect(refused.events.text.contains("line break"), "\(refused.events.text)")
        #expect(refused.commands("web1").isEmpty)
    }
}
