import Foundation
import Testing
@testable import SwiftFab

/// Plans built from Deployfile snippets, run through recording backends.
@Suite struct DSLTests {
    static let hosts = ["h1", "h2", "h3", "h4", "h5"].map { HostDefinition(address: $0, roles: [.web]) }

    static let hostile = ["'; rm -rf / #", "two words", "quote\"d 'single'", "new\nline", "$(touch /tmp/x) `id` $HOME", "*", ""]

    @Test func hostileArgumentsStayOneWord() async throws {
        let deployfile = Deployfile("t") {
            Task("echo", "Print hostile words") {
                for word in Self.hostile { Run("printf '[%s]' \(word)") }
                Run(["printf", "<%s>"] + Self.hostile)
            }
        }
        let harness = RecordingHarness(deployfile, hosts: [Self.hosts[0]])
        #expect(await harness.runner.run("echo"))
        let commands = harness.commands("h1")
        #expect(commands.count == Self.hostile.count + 1)
        // The recorded text, run by a real shell, gives back each word exactly.
        for (command, word) in zip(commands, Self.hostile) {
            let result = try await LocalBackend().run(.raw(command))
            #expect(result.stdoutText == "[\(word)]", "\(command)")
        }
        let words = try await LocalBackend().run(.raw(commands.last!))
        #expect(words.stdoutText == Self.hostile.map { "<\($0)>" }.joined())
    }

    @Test func secretsAreRedactedInEveryOutput() async throws {
        let token = "tok-\(UUID().uuidString)"
        let deployfile = Deployfile("t") {
            Setting("token", .secret(env: "TOKEN"))
            Task("use", "Use the token") {
                Run("curl -H \(Word("Authorization: Bearer \(Settings["token"])")) https://example.invalid")
                WithEnvironment(["API_TOKEN": Settings["token"]]) { Run("./call-api") }
            }
        }
        let settings = try deployfile.resolveSettings(for: nil, source: SettingsSource(environment: ["TOKEN": token]))
        let harness = RecordingHarness(deployfile, hosts: [Self.hosts[0]], settings: settings) { _, backend in
            // The host echoes the token back on both streams, and the command fails.
            backend.respond(to: "curl", with: CommandResult(exitStatus: 0, stdout: Data("got \(token)\n".utf8), stderr: Data("auth \(token)\n".utf8)))
            backend.respond(to: "call-api", with: CommandResult(exitStatus: 2, stderr: Data("denied for \(token)\n".utf8)))
        }
        let dir = try TempDir.make().path
        let human = LineLog()
        let json = LineLog()
        let log = LogFileSink(directory: dir, task: "use")
        var runner = harness.runner
        runner.sink = FanOutSink([harness.events, HumanSink(style: .plain) { _, text in human.add(text) },
                                  JSONLinesSink { json.add($0) }, log])
        #expect(await runner.run("use") == false)
        _ = await runner.dryRun("use")
        // The host received the real token, as one word...
        #expect(harness.commands("h1").allSatisfy { $0.contains(token) })
        #expect(harness.commands("h1").first?.contains("'Authorization: Bearer \(token)'") == true)
        // ...and no output format shows it.
        let logText = try String(contentsOfFile: log.path, encoding: .utf8)
        for (name, text) in [("human", human.all), ("json", json.all), ("log", logText), ("events", harness.events.text)] {
            #expect(!text.contains(token), "\(name) leaks the secret")
            #expect(text.contains("[secret]"), "\(name) shows no redaction marker")
        }
        #expect(json.all.split(separator: "\n").allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
    }

    @Test func hooksRunInOrderAndLoopsAreRefused() throws {
        let deployfile = Deployfile("t") {
            Task("deploy", "") { Run("deploy") }
            Task("check", "") { Run("check") }
            Task("lint", "") { Run("lint") }
            Task("migrate", "") { Run("migrate") }
            Task("notify", "") { Run("notify") }
            Before("deploy", run: "check")
            Before("check", run: "lint")
            After("deploy", run: "migrate")
            After("deploy", run: "notify")
        }
        #expect(try Planner(deployfile: deployfile).runOrder("deploy") == ["lint", "check", "deploy", "migrate", "notify"])
        let looping = Deployfile("t") {
            Task("a", "") { Run("a") }
            Task("b", "") { Run("b") }
            Before("a", run: "b")
            Before("b", run: "a")
        }
        #expect(throws: SwiftFabError.self) { try Planner(deployfile: looping).runOrder("a") }
    }

    @Test func onceRolesAndRollingBatches() throws {
        let mixed = [HostDefinition(address: "db1", roles: [.db]), HostDefinition(address: "web1", roles: [.web]),
                     HostDefinition(address: "web2", roles: [.web, .db])]
        let deployfile = Deployfile("t") {
            Task("migrate", "", on: .db, once: true) { Run("migrate") }
            Task("web", "", on: .web) { Run("w") }
            Task("roll", "", strategy: .rolling(2)) { Run("r") }
            Task("pct", "", strategy: .rollingPercent(40)) { Run("p") }
            Task("seq", "", strategy: .sequential) { Run("s") }
        }
        let planner = Planner(deployfile: deployfile)
        #expect(try planner.plan("migrate", hosts: mixed).hosts.map(\.address) == ["db1"])
        #expect(try planner.plan("web", hosts: mixed).hosts.map(\.address) == ["web1", "web2"])
        #expect(try planner.plan("roll", hosts: Self.hosts).batches.map(\.count) == [2, 2, 1])
        #expect(try planner.plan("pct", hosts: Self.hosts).batches.map(\.count) == [2, 2, 1])
        #expect(try planner.plan("seq", hosts: Self.hosts).batches.map(\.count) == [1, 1, 1, 1, 1])
    }

    @Test func failFastStopsLaterHostsAndContinueDoesNot() async throws {
        func deployfile(_ policy: FailurePolicy) -> Deployfile {
            Deployfile("t") { Task("step", "", strategy: .sequential, failurePolicy: policy) { Run("work") } }
        }
        let failOnH2: (String, RecordingBackend) -> Void = { host, backend in
            if host == "h2" { backend.respond(to: "work", with: CommandResult(exitStatus: 1)) }
        }
        let fast = RecordingHarness(deployfile(.failFast), prepare: failOnH2)
        #expect(await fast.runner.run("step") == false)
        #expect(fast.commands("h1") == ["work"] && fast.commands("h2") == ["work"])
        #expect(fast.commands("h3").isEmpty && fast.commands("h5").isEmpty)
        #expect(fast.events.results["h3"] == "skipped")

        // Parallel with continue: every host runs, the task still fails.
        let parallel = RecordingHarness(Deployfile("t") { Task("step", "") { Run("work") } }, prepare: failOnH2)
        #expect(await parallel.runner.run("step") == false)
        #expect(Self.hosts.allSatisfy { parallel.commands($0.address) == ["work"] })
        #expect(parallel.events.results["h2"] == "failed" && parallel.events.results["h1"] == "ok")

        // A failed host stops its own remaining steps.
        let steps = RecordingHarness(Deployfile("t") { Task("two", "") { Run("work"); Run("after") } }, prepare: failOnH2)
        _ = await steps.runner.run("two")
        #expect(steps.commands("h2") == ["work"] && steps.commands("h1") == ["work", "after"])
    }

    @Test func failureHooksRunOnEveryHostOfTheFailedTaskOnly() async throws {
        let deployfile = Deployfile("t") {
            Task("deploy", "", strategy: .sequential, failurePolicy: .failFast) { Run("work") }
            Task("report", "") { Run("report") }
            Task("after", "") { Run("after") }
            OnFailure("deploy", run: "report")
            After("deploy", run: "after")
        }
        let failing = RecordingHarness(deployfile) { host, backend in
            if host == "h2" { backend.respond(to: "work", with: CommandResult(exitStatus: 1)) }
        }
        #expect(await failing.runner.run("deploy") == false)
        // h3.. never started deploying, yet they report; no After hook runs after a failure.
        #expect(failing.commands("h1") == ["work", "report"] && failing.commands("h2") == ["work", "report"])
        #expect(failing.commands("h3") == ["report"])
        let fine = RecordingHarness(deployfile)
        #expect(await fine.runner.run("deploy"))
        #expect(fine.commands("h1") == ["work", "after"])
        // A failing Before hook fails the deploy: the deploy's failure hooks run too.
        let hooked = Deployfile("t") {
            Task("deploy", "") { Run("work") }
            Task("check", "") { Run("check") }
            Task("report", "") { Run("report") }
            Before("deploy", run: "check")
            OnFailure("deploy", run: "report")
        }
        let before = RecordingHarness(hooked, hosts: [Self.hosts[0]]) { _, backend in
            backend.respond(to: "check", with: CommandResult(exitStatus: 1))
        }
        #expect(await before.runner.run("deploy") == false)
        #expect(before.commands("h1") == ["check", "report"])
        // A failure hook naming no task is refused before anything runs.
        let typo = Deployfile("t") { Task("deploy", "") { Run("work") }; OnFailure("deploy", run: "reprot") }
        #expect(throws: SwiftFabError.self) { try Planner(deployfile: typo).runOrder("deploy") }
    }

    @Test func swiftControlFlowWithinScopesAndConditions() async throws {
        let verbose = true
        let deployfile = Deployfile("t") {
            Task("t", "") {
                if verbose { Run("echo loud") } else { Run("echo quiet") }
                for name in ["a", "b"] { Run("touch \(name)") }
                Within("/srv") {
                    Within("app") { Run("ls") }
                    WithEnvironment(["MODE": "x y"]) { Run("env") }
                }
                When("test -f /flag") { Run("echo yes") } otherwise: { Run("echo no") }
                Invoke("other", "arg 1")
                Dynamic("decide") { host in
                    if try await host.output("cat /version") == "2" { try await host.run("echo upgrade") }
                }
            }
            Task("other", "", arguments: "what") { arguments in Run("echo \(arguments["what"])") }
        }
        let harness = RecordingHarness(deployfile, hosts: [Self.hosts[0]]) { _, backend in
            backend.respond(to: "test -f /flag", with: CommandResult(exitStatus: 1))
            backend.respond(to: "cat /version", with: CommandResult(exitStatus: 0, stdout: Data("2\n".utf8)))
        }
        #expect(await harness.runner.run("t"))
        #expect(harness.commands("h1") == [
            "echo loud", "touch a", "touch b", "cd /srv/app && ls", "cd /srv && env 'MODE=x y' sh -c env",
            "test -f /flag", "echo no", "echo 'arg 1'", "cat /version", "echo upgrade",
        ])
        // The dry run runs the same steps, the dynamic one included, against a backend that runs nothing:
        // the condition is taken to hold, the dynamic step's commands are shown, the hosts' backends are never used.
        var dry = harness.runner.dryRunning()
        let events = EventLog()
        dry.sink = events
        #expect(await dry.run("t"))
        let shown = events.all.compactMap { event -> String? in if case .commandStarted(_, let command, _, _, _) = event { return command } else { return nil } }
        #expect(shown == ["echo loud", "touch a", "touch b", "cd /srv/app && ls", "cd /srv && env 'MODE=x y' sh -c env",
                          "if test -f /flag", "echo yes", "echo 'arg 1'", "cat /version"], "\(shown)")
        #expect(harness.commands("h1").count == 10)   // only the real run's
    }

    @Test func dynamicStepsKeepTheCallersStdinAndTimeout() async throws {
        let seen = LineLog()
        let deployfile = Deployfile("t") {
            Task("t", "") {
                Dynamic("io") { host in
                    let echoed = try await host.backend.run(Command("cat"), ExecOptions(stdin: Data("from stdin".utf8)))
                    seen.add(echoed.stdoutText + "|")
                    let slow = try await host.backend.run(Command("sleep", "5"), ExecOptions(timeout: 0.3))
                    seen.add(slow.timedOut ? "timed out" : "ran to the end")
                }
            }
        }
        let runner = TaskRunner(deployfile: deployfile, environment: "test", hosts: [Self.hosts[0]], settings: ResolvedSettings(),
                                sink: EventLog(), pool: ConnectionPool { _ in LocalBackend() })
        #expect(await runner.run("t"))
        #expect(seen.all == "from stdin|timed out")
    }

    @Test func mistakesAreNamed() throws {
        let deployfile = Deployfile("t") {
            Task("deploy", "") { Run("d") }
            Task("restore", "", arguments: "name") { arguments in Run("r \(arguments["name"])") }
            Task("bad", "") { Invoke("deplyo") }
            Task("needs", "") { Run("use \(Settings["password"])") }
            Setting("password", .secret(env: "NOPE_NOT_SET"))
        }
        let planner = Planner(deployfile: deployfile, settings: try deployfile.resolveSettings(for: nil, source: SettingsSource(environment: [:])))
        #expect(planner.unknownTask("deplyo").hint?.contains("did you mean: deploy") == true)
        #expect(throws: SwiftFabError.self) { try planner.plan("restore", hosts: Self.hosts) }
        do { _ = try planner.plan("restore", hosts: Self.hosts) } catch let error as SwiftFabError { #expect(error.message == "restore needs NAME") }
        do { _ = try planner.plan("bad", hosts: Self.hosts) } catch let error as SwiftFabError { #expect(error.message.contains("unknown task 'deplyo'") || error.message.contains("unknown task deplyo")) }
        // An unset variable only matters to the task that uses it.
        #expect(throws: Never.self) { try planner.plan("deploy", hosts: Self.hosts) }
        do { _ = try planner.plan("needs", hosts: Self.hosts) } catch let error as SwiftFabError {
            #expect(error.message.contains("password needs the environment variable NOPE_NOT_SET"))
        }
    }

    @Test func envFilesAndEnvironmentOverrides() throws {
        let dir = try TempDir.make().path
        try "# comment\nexport A=from-file\nB='quoted value'\nC=\"x\"\n".write(toFile: dir + "/.env", atomically: true, encoding: .utf8)
        let deployfile = Deployfile("t") {
            EnvFile(".env")
            Setting("a", .env("A"))
            Setting("b", .env("B"))
            Setting("c", .env("C"))
            Setting("d", .env("D", default: "fallback"))
            Environment("prod", settings: ["d": "prod-value"]) { Host("x") }
        }
        let resolved = try deployfile.resolveSettings(for: nil, source: SettingsSource(environment: ["C": "from-env"]), baseDirectory: dir)
        #expect(resolved["a"] == .plain("from-file") && resolved["b"] == .plain("quoted value"))
        #expect(resolved["c"] == .plain("from-env") && resolved["d"] == .plain("fallback"))
        let prod = try deployfile.resolveSettings(for: deployfile.environments[0], source: SettingsSource(environment: [:]), baseDirectory: dir)
        #expect(prod["d"] == .plain("prod-value"))
        try "not a pair\n".write(toFile: dir + "/.env", atomically: true, encoding: .utf8)
        #expect(throws: SwiftFabError.self) { try deployfile.resolveSettings(for: nil, source: SettingsSource(environment: [:]), baseDirectory: dir) }
    }
}

/// Collects run events for assertions.
final class EventLog: EventSink, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [RunEvent] = []
    func emit(_ event: RunEvent) { lock.withLock { events.append(event) } }
    var all: [RunEvent] { lock.withLock { events } }
    var text: String { all.map(\.jsonLine).joined(separator: "\n") }
    /// Each host's last result status.
    var results: [String: String] {
        var map: [String: String] = [:]
        for case .hostFinished(_, let host, let status, _, _, _) in all { map[host] = status }
        return map
    }
}
