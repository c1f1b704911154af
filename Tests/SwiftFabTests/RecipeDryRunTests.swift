import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// A dry run cannot drift from the real run: every recipe task runs both ways
/// in memory, and sends the same commands and transfers in the same order.
/// The real run's hosts answer what each command says a host would (the
/// answers a dry run assumes), so both take the same path.
@Suite struct RecipeDryRunTests {
    static let hosts = [HostDefinition(address: "web1", roles: [.web, .db]), HostDefinition(address: "web2", roles: [.web])]

    struct Project {
        let deployfile: Deployfile
        let settings: ResolvedSettings
        let directory: String
    }

    static func project() async throws -> Project {
        let repository = try await GitTests.makeRepository()
        let envFile = try TempDir.make().path + "/prod.env"
        try "SECRET_KEY=not-shown-anywhere\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let app = BlueGreenConfig(app: "shop", command: "serve {socket}", repository: repository, proxyCheckURL: "http://127.0.0.1/version",
                                  beforeSwitch: ["./manage.py migrate"], warmupRequests: 5, envFile: envFile, stopOldSlotAfter: 300,
                                  runtime: .process)
        // The database on web1 (it has the db role): provision sets it up there, doctor checks its login.
        let database = PostgresConfig(database: "shop", passwordSetting: "db_password", backups: "/srv/shop/backups", keep: 2,
                                      pauseWrites: .blueGreen(app))
        let deployfile = Deployfile("shop") {
            Environment("production") { for host in hosts { host } }
            Setting("db_password", .secret(env: "DB_PASSWORD"))
            BlueGreen(app)
            ServerTasks(ServerConfig(app: app, packages: ["git"]).watching(database))
            Postgres(database)
        }
        let settings = try deployfile.resolveSettings(for: deployfile.environments.first,
                                                      source: SettingsSource(environment: ["DB_PASSWORD": "pw-123456"]))
        return Project(deployfile: deployfile, settings: settings, directory: repository)
    }

    /// What a backend was asked to do, with what differs from run to run
    /// (times, tokens, temporary names) blanked out.
    static func normalized(_ steps: [String]) -> [String] {
        let patterns = [#"\d{8}T\d{6}Z"#: "STAMP", #"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"#: "TIME",
                        #"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"#: "TOKEN",
                        #"/tmp/[^ ']+"#: "/tmp/TEMP", #"\.upload-[0-9A-Za-z]{8}\.partial"#: ".upload-ID.partial",
                        #"\.swiftfab-env-[0-9a-z-]+"#: ".swiftfab-env-ID", #"\b1\d{9}\b"#: "CLOCK", #"@@swiftfab-doctor-[0-9A-F]+"#: "@@MARK",
                        #"\t\d+\.\d\d\t"#: "\tSECONDS\t"]
        return steps.map { step in
            patterns.reduce(step) { text, pattern in text.replacingOccurrences(of: pattern.key, with: pattern.value, options: .regularExpression) }
        }
    }

    static func steps(of calls: [RecordingBackend.Call], commands: [Command]) -> [String] {
        var remaining = commands[...]
        return normalized(calls.map { call in
            switch call {
            case .run: return "run " + (remaining.popFirst()?.display ?? "?")
            case .upload(_, let remote, let mode): return "upload to \(remote) mode \(mode.map { String($0, radix: 8) } ?? "-")"
            case .download(let remote, _): return "download \(remote)"
            }
        })
    }

    static let tasks = ["deploy", "deploy --stage", "promote", "rollback", "releases", "live", "status",
                        "backup", "backups", "restore shop-20260101T000000Z.dump --yes", "restore shop-20260101T000000Z.dump --yes --stop-writes",
                        "prune-backups --keep 1", "provision", "provision --check", "doctor", "logs", "logs green --lines 5"]

    @Test(arguments: tasks)
    func aDryRunSendsWhatTheRunSends(_ words: String) async throws {
        let project = try await Self.project()
        let line = try TaskCommandLine.parse(words.split(separator: " ").map(String.init), deployfile: project.deployfile)
        let task = try #require(line.task?.name)
        // For real, on hosts that answer as a dry run assumes.
        let real = RecordingHarness(project.deployfile, hosts: Self.hosts, settings: project.settings, answerAssumptions: true)
        var runner = real.runner
        runner.context = RunContext(deployfileDirectory: project.directory)
        let report = await runner.run(task, plans: try runner.plans(task, arguments: line.taskArguments(run: runner.context)))
        #expect(report.ok, "\(words): \(real.events.text)")
        // Dry, against backends that run nothing.
        let dryBackends = Dictionary(uniqueKeysWithValues: Self.hosts.map { ($0.address, DryRunBackend(host: $0.address)) })
        var dry = runner
        dry.pool = ConnectionPool { host in dryBackends[host.address]! }
        dry.local = DryRunBackend(host: "local")
        dry.context.dryRun = true
        let events = EventLog()
        dry.sink = events
        let dryReport = await dry.run(task, plans: try dry.plans(task, arguments: line.taskArguments(run: dry.context)))
        #expect(dryReport.ok, "\(words): \(events.text)")
        for host in Self.hosts.map(\.address) {
            let recording = real.backends[host]!
            let sent = Self.steps(of: recording.calls, commands: recording.commandValues)
            let shown = Self.normalized(dryBackends[host]!.calls.map { call in
                switch call {
                case .run(let display): return "run " + display
                case .upload(_, let remote, let mode): return "upload to \(remote) mode \(mode.map { String($0, radix: 8) } ?? "-")"
                case .download(let remote, _): return "download \(remote)"
                }
            })
            #expect(sent == shown, "\(words) on \(host): the dry run differs from the run")
            #expect(!sent.isEmpty || task == "promote" || host == "web2" && ["backup", "backups", "restore", "prune-backups"].contains(task),
                    "\(words) on \(host) sent nothing")
        }
        // What a dry run shows never holds a secret or an env file's value.
        #expect(!events.text.contains("pw-123456") && !events.text.contains("not-shown-anywhere"))
    }

    @Test func theDeployDryRunShowsTheCleanUpThePruneAndTheSwitch() async throws {
        let project = try await Self.project()
        var dry = RecordingHarness(project.deployfile, hosts: [Self.hosts[0]], settings: project.settings).runner.dryRunning()
        dry.context.deployfileDirectory = project.directory
        let events = EventLog()
        dry.sink = events
        #expect(await dry.run("deploy"))
        let summaries = events.all.compactMap { event -> String? in
            if case .commandStarted(_, _, _, _, let summary) = event { return summary } else { return nil }
        }
        for expected in ["remove what an interrupted deploy left", "switch traffic: live.sock -> green.sock; rollback target: 20261124T090000Z-aaaaaaa",
                         "delete 2 old releases: 20261114T090000Z-1111111, 20261115T090000Z-2222222", "check the deploy lock is still this run's",
                         "stop slot blue in 5m00s"] {
            #expect(summaries.contains { $0.hasPrefix(expected) }, "\(expected): \(summaries)")
        }
        #expect(events.all.contains { if case .assumption(_, _, let because) = $0 { return because == "slot blue is live" } else { return false } })
    }

    @Test func aDryRunWorksWithNoSecretSet() async throws {
        let project = try await Self.project()
        let settings = try project.deployfile.resolveSettings(for: project.deployfile.environments.first, source: SettingsSource(environment: [:]))
        #expect(settings.missing["db_password"] == "DB_PASSWORD")
        var dry = RecordingHarness(project.deployfile, hosts: [Self.hosts[0]], settings: settings).runner.dryRunning()
        let events = EventLog()
        dry.sink = events
        #expect(await dry.run("backup"))
        #expect(events.text.contains("PGPASSWORD=[secret DB_PASSWORD: not set]"), "\(events.text)")
        // A real run still refuses, naming the variable.
        let real = RecordingHarness(project.deployfile, hosts: [Self.hosts[0]], settings: settings)
        #expect(await real.runner.run("backup") == false)
        #expect(real.events.text.contains("DB_PASSWORD"))
    }
}
