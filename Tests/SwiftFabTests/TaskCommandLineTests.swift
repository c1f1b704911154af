import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// The task command line as a contract: parsed whole against the tasks'
/// declared options before anything is planned or connected.
@Suite struct TaskCommandLineTests {
    static let app = BlueGreenConfig(app: "shop", command: "serve {socket}", runtime: .process)
    static let deployfile = Deployfile("cli") {
        Environment("production") { Host("web1.example.com", roles: .web); Host("web2.example.com", roles: .web) }
        Environment("staging", default: true) { Host("stage1", roles: .web) }
        Task("uptime", "Show load") { Run("uptime") }
        BlueGreen(app)
        Logs(ServerConfig(app: app))
        Postgres(PostgresConfig(database: "shop", backups: "/srv/b", keep: 3))
    }

    func parse(_ words: String) throws(CommandLineError) -> TaskCommandLine {
        try TaskCommandLine.parse(words.split(separator: " ").map(String.init), deployfile: Self.deployfile)
    }

    func error(_ words: String) -> CommandLineError? {
        do { _ = try parse(words); return nil } catch { return error }
    }

    @Test func aMisspelledDryRunIsAnErrorWhereverItStands() {
        for words in ["rollback -e production --dryrun", "--dryrun rollback", "rollback --dry", "rollback -n", "rollback --dry-rnu"] {
            let failure = error(words)
            #expect(failure != nil, "\(words) was accepted")
            #expect(failure?.message.contains("nothing was run") == true, "\(words): \(String(describing: failure))")
        }
        #expect(error("rollback --dryrun")?.hint?.contains("did you mean --dry-run") == true)
        #expect(error("deploy --stag")?.hint?.contains("did you mean --stage") == true)
        #expect(error("deploy --stag")?.hint?.contains("usage: swiftfab deploy [REVISION] [--stage] [--allow-dirty] [--lock-wait SECONDS]") == true)
    }

    @Test func globalOptionsStandBeforeAndAfterTheTask() throws {
        let after = try parse("rollback -e production --dry-run --json")
        #expect(after.task?.name == "rollback" && after.globals.dryRun && after.globals.json && after.globals.environment == "production")
        let before = try parse("-e production -H web1 --dry-run deploy v2 --stage")
        #expect(before.globals.hosts == "web1" && before.arguments == ["v2"] && before.options == ["stage": ""])
        #expect(try parse("deploy --lock-wait=2.5").options["lock-wait"] == "2.5")
        // `-2` is a positional for a task that takes one (rollback -2), an unknown option for one that takes none.
        #expect(try parse("rollback -2 -e production").arguments == ["-2"])
        #expect(try parse("rollback -e production -- -3").arguments == ["-3"])
        #expect(error("uptime -2")?.message.contains("uptime has no option -2") == true)
    }

    @Test func valuesAndArgumentsAreChecked() {
        #expect(error("deploy --lock-wait soon")?.message == "--lock-wait takes a number (SECONDS), not soon")
        #expect(error("deploy --lock-wait")?.message == "--lock-wait needs a value (SECONDS)")
        #expect(error("deploy --stage=yes")?.message == "--stage is a flag: it takes no value")
        #expect(error("uptime now")?.message == "uptime takes no arguments, but was given now")
        #expect(error("deploy v1 v2")?.message == "deploy takes at most 1 argument, but was given v2")
        #expect(error("prune-backups --keep 0")?.message == "--keep takes 1 or more, not 0")
        #expect(error("logs nginx")?.message == "WHICH is one of slot, blue, green, proxy, db, not nginx")
        #expect(error("uptim")?.message == "unknown task uptim" && error("uptim")?.hint?.contains("uptime") == true)
        #expect(error("--parallel 0 uptime")?.message.contains("--parallel takes a number of hosts") == true)
        #expect(error("--env")?.message == "--env needs a value (ENV)")
    }

    @Test func dashFAfterLogsFollowsAndBeforeTheTaskNamesTheDeployfile() throws {
        let logs = try parse("logs -f")
        #expect(logs.options["follow"] != nil && logs.globals.file == nil)
        let named = try parse("-f other.swift logs -n 5")
        #expect(named.globals.file == "other.swift" && named.options["lines"] == "5")
        // After --, everything is the task's, even what looks like an option.
        let passed = try parse("restore -- -odd-name")
        #expect(passed.arguments == ["-odd-name"])
        // `--download` alone means here; with a folder, that folder.
        #expect(try parse("backup --download").options["download"] == ".")
        #expect(try parse("backup --download /tmp/b").options["download"] == "/tmp/b")
    }

    @Test func hostsRolesAndEnvironmentsAreNamesThatExist() throws {
        var globals = GlobalOptions()
        globals.environment = "production"
        globals.hosts = "web1"
        #expect(try HostSelection(deployfile: Self.deployfile, globals: globals).hosts.map(\.address) == ["web1.example.com"])
        globals.hosts = "web3"
        #expect(throws: CommandLineError.self) { try HostSelection(deployfile: Self.deployfile, globals: globals) }
        do { _ = try HostSelection(deployfile: Self.deployfile, globals: globals) } catch {
            #expect(error.hint?.contains("web1.example.com, web2.example.com") == true, "\(error)")
        }
        globals.hosts = nil
        globals.roles = "wbe"
        do { _ = try HostSelection(deployfile: Self.deployfile, globals: globals); Issue.record("a misspelled role was accepted") } catch {
            #expect(error.hint?.contains("did you mean web") == true, "\(error)")
        }
        globals.roles = nil
        globals.environment = "prodution"
        do { _ = try HostSelection(deployfile: Self.deployfile, globals: globals); Issue.record("a misspelled environment was accepted") } catch {
            #expect(error.hint?.contains("did you mean production") == true, "\(error)")
        }
        // Without an environment in reach, -H takes any host.
        globals.environment = nil
        globals.hosts = "adhoc.example.com"
        #expect(try HostSelection(deployfile: Deployfile("x") { Task("t", "t") { Run("true") } }, globals: globals).hosts.map(\.address) == ["adhoc.example.com"])
    }

    @Test func aTaskIsPlannedWithItsOptionsAndTheRunContext() throws {
        let line = try parse("restore shop-1.dump --yes")
        let run = RunContext(dryRun: true, deployfileDirectory: "/nowhere")
        let plan = try Planner(deployfile: Self.deployfile, run: run).plan("restore", arguments: line.taskArguments(run: run), hosts: [Host("db", roles: .db)])
        #expect(plan.arguments["name"] == "shop-1.dump" && plan.arguments.flag("yes") && plan.arguments.run.dryRun)
        // A mistake only planning can see stops the run before anything connects, as a usage error.
        let both = try parse("restore shop-1.dump --from-local x.dump")
        #expect(throws: SwiftFabError.self) {
            try Planner(deployfile: Self.deployfile, run: run).plan("restore", arguments: both.taskArguments(run: run), hosts: [])
        }
    }

    /// Typed handles read back what the command line gave, with their types, or their defaults.
    @Test func typedOptionsReadTheCheckedValuesWithTheirTypes() throws {
        let name = Argument("name", help: "Who")
        let greeting = Argument<String?>("greeting", help: "What to say")
        let loud = Flag("loud", short: "l", help: "Shout")
        let times = Option("times", help: "How often", default: 1, minimum: 1)
        let pause = Option("pause", value: "SECONDS", help: "Between greetings", default: 0.5, minimum: 0)
        let limit = Option<Int?>("limit", help: "At most", minimum: 0)
        let to = Option<String?>.path("to", help: "Also write it here", implicit: ".")
        let seen = Locked<[String]>([])
        let deployfile = Deployfile("typed") {
            Environment("test") { Host("h1", roles: .web) }
            Task("greet", "Greet someone", options: [name, greeting, loud, times, pause, limit, to]) { arguments in
                seen.update {
                    $0 = [arguments[name], arguments[greeting] ?? "-", String(arguments[loud]), String(arguments[times]),
                          String(arguments[pause]), arguments[limit].map(String.init) ?? "-", arguments[to] ?? "-"]
                }
                return []
            }
        }
        func read(_ words: String) throws -> [String] {
            let line = try TaskCommandLine.parse(words.split(separator: " ").map(String.init), deployfile: deployfile)
            let run = RunContext(dryRun: true, deployfileDirectory: "/nowhere")
            _ = try Planner(deployfile: deployfile, run: run).plan("greet", arguments: line.taskArguments(run: run), hosts: [Host("h1", roles: .web)])
            return seen.current
        }
        #expect(try read("greet ann") == ["ann", "-", "false", "1", "0.5", "-", "-"])
        #expect(try read("greet ann hi -l --times 3 --pause 2 --limit 0 --to") == ["ann", "hi", "true", "3", "2.0", "0", "."])
        // The declarations' checks stand in front of the typed reads.
        #expect(throws: CommandLineError.self) { try read("greet ann --times 0") }
        #expect(throws: CommandLineError.self) { try read("greet ann --pause soon") }
        #expect(throws: CommandLineError.self) { try read("greet") }
        #expect(deployfile.task(named: "greet")?.options.map(\.usage) == ["NAME", "[GREETING]", "--loud", "--times N", "--pause SECONDS", "--limit N", "--to [PATH]"])
    }

    @Test func helpAndListingComeFromTheDeclarations() throws {
        let deploy = try #require(Self.deployfile.task(named: "deploy"))
        let help = TaskHelp.text(for: deploy, in: Self.deployfile)
        for expected in ["usage: swiftfab deploy [REVISION] [--stage]", "--stage", "--lock-wait SECONDS", "(default: HEAD)",
                         "on hosts with role web", "when it fails: live"] {
            #expect(help.contains(expected), "\(expected): \(help)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(TaskHelp.json(Self.deployfile).utf8)) as? [String: Any]
        let tasks = json?["tasks"] as? [[String: Any]] ?? []
        let options = (tasks.first { $0["name"] as? String == "deploy" }?["options"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(options == ["revision", "stage", "allow-dirty", "lock-wait"])
        #expect((json?["environments"] as? [[String: Any]])?.count == 2)
    }
}
