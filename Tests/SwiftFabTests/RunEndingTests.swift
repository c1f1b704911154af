import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// What a run shows at its end and where: the last line agrees with the
/// exit status, and results go to standard output, progress to standard error.
@Suite struct RunEndingTests {
    /// The human output, each stream apart.
    final class Streams: @unchecked Sendable {
        private let lock = NSLock()
        private var texts: [StdStream: String] = [:]
        func add(_ stream: StdStream, _ text: String) { lock.withLock { texts[stream, default: ""] += text } }
        var stdout: String { lock.withLock { texts[.stdout] ?? "" } }
        var stderr: String { lock.withLock { texts[.stderr] ?? "" } }
        var lastLine: String { stderr.split(separator: "\n").last.map(String.init) ?? "" }
    }

    /// Runs `task` with `options` on recording hosts, shown as people see it.
    static func run(_ deployfile: Deployfile, _ task: String, options: [String: String] = [:], hosts: [HostDefinition],
                    prepare: @escaping (String, RecordingBackend) -> Void = { _, _ in }) async throws -> (report: RunReport, streams: Streams) {
        let harness = RecordingHarness(deployfile, hosts: hosts, prepare: prepare)
        let streams = Streams()
        var runner = harness.runner
        runner.sink = HumanSink(style: .plain) { stream, text in streams.add(stream, text) }
        let plans = try runner.plans(task, arguments: TaskArguments(options: options, run: runner.context))
        return (await runner.run(task, plans: plans), streams)
    }

    static let web1 = [HostDefinition(address: "web1", roles: [.web])]
    static let app = BlueGreenConfig(app: "shop", command: "serve {socket}", runtime: .process)
    static let provision = Deployfile("shop") { Provision(ServerConfig(app: app, packages: ["git"])) }

    /// A host without systemd answers "no" to the probe: that is an answer, not a red ✗.
    @Test func provisionCheckWithNothingToChangeEndsGreenAndExitsZero() async throws {
        let (report, streams) = try await Self.run(Self.provision, "provision", options: ["check": ""], hosts: Self.web1) { _, backend in
            backend.respond(to: "test -d /run/systemd/system", with: CommandResult(exitStatus: 1))
        }
        #expect(report == RunReport(ok: true, exitCode: 0), "\(streams.stderr)")
        #expect(!streams.stderr.contains("✗"), "\(streams.stderr)")
        #expect(streams.lastLine.hasPrefix("✓ provision: nothing to change in "), "\(streams.stderr)")
    }

    /// Changes pending: exit 2 (1 stays "failed"), said in words.
    @Test func provisionCheckWithChangesPendingSaysSoAndExitsTwo() async throws {
        let (report, streams) = try await Self.run(Self.provision, "provision", options: ["check": ""], hosts: Self.web1) { _, backend in
            backend.respond(to: "to install:", with: CommandResult(exitStatus: 1, stdout: Data("to install: git\n".utf8)))
        }
        #expect(report == RunReport(ok: true, exitCode: 2), "\(streams.stderr)")
        #expect(streams.stderr.contains("would change packages git: to install: git"), "\(streams.stderr)")
        #expect(streams.lastLine.hasPrefix("! provision: 1 step would change on web1 (nothing was changed; provision without --check applies them) in "),
                "\(streams.stderr)")
        // A host that fails is a failure, never "changes pending".
        let broken = try await Self.run(Self.provision, "provision", options: ["check": ""], hosts: Self.web1) { _, backend in
            backend.fail({ $0 != .run("test -d /run/systemd/system") }, with: SwiftFabError(.connection, "connection lost"))
        }
        #expect(broken.report.exitCode == 1 && broken.streams.lastLine.hasPrefix("✗ provision failed"), "\(broken.streams.stderr)")
    }

    @Test func theLastLineAgreesWithTheExitStatus() {
        let streams = Streams()
        let sink = HumanSink(style: .plain) { stream, text in streams.add(stream, text) }
        func ending(ok: Bool = true, _ exitCode: Int32, _ verdict: Verdict?) -> String {
            sink.emit(.taskFinished(task: "doctor", ok: ok, duration: 1.5, exitCode: exitCode, verdict: verdict))
            return streams.lastLine
        }
        #expect(ending(0, nil) == "✓ doctor done in 1.50s")
        #expect(ending(2, DoctorReport.verdict(failures: 2, warnings: 1)) == "✗ doctor: 2 failures, 1 warning in 1.50s")
        #expect(ending(1, DoctorReport.verdict(failures: 0, warnings: 3)) == "! doctor: 3 warnings in 1.50s")
        #expect(DoctorReport.verdict(failures: 0, warnings: 0) == nil)
        // A raise without words, and a failed host, are still said as they are.
        #expect(ending(3, nil) == "! doctor done, exit status 3 in 1.50s")
        #expect(ending(ok: false, 2, nil) == "✗ doctor failed in 1.50s")
        #expect(streams.stdout.isEmpty)
    }

    /// `swiftfab backups | grep x`: results on stdout, bare with one host, labelled with several.
    @Test func resultsGoToStandardOutputLabelledWithSeveralHosts() async throws {
        let deployfile = Deployfile("t") {
            Task("list", "") {
                Dynamic("list things") { host in
                    host.note("reading the list")
                    host.result("NAME  SIZE")
                    host.result("a     1")
                }
            }
        }
        let one = try await Self.run(deployfile, "list", hosts: Self.web1)
        #expect(one.streams.stdout == "NAME  SIZE\na     1\n")
        #expect(one.streams.stderr.contains("web1  | reading the list") && !one.streams.stderr.contains("NAME"), "\(one.streams.stderr)")
        let two = try await Self.run(deployfile, "list", hosts: Self.web1 + [HostDefinition(address: "web22", roles: [.web])])
        let lines = two.streams.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4 && lines.filter { $0 == "web1  | NAME  SIZE" }.count == 1 && lines.contains("web22 | a     1"), "\(lines)")
        // For tools: a note still, marked as a result.
        let json = RunEvent.result(host: "web1", text: "a     1").json
        #expect(json["event"] as? String == "note" && json["kind"] as? String == "result" && json["host"] as? String == "web1")
    }
}
