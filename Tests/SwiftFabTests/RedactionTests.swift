import Foundation
import Testing
@testable import SwiftFab

/// Secrets of several lines, and values a run hides that commands carry as
/// plain text (an app's env file), never reach people or files.
@Suite struct RedactionTests {
    static let pem = "-----BEGIN TEST KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n  QEFAASCBKcwggSjAgEAAoIB  \n\n-----END TEST KEY-----\n"
    static let json = "{\r\n  \"type\": \"service_account\",\r\n  \"private_key_id\": \"4f2a9c\",\r\n  \"n\": 1\r\n}"

    @Test func eachLineOfASecretOfSeveralLinesIsHidden() {
        let redactor = Redactor([Secret(Self.pem), Secret(Self.json)])
        // Whole, it is one mask; line by line (as output comes), each line is one.
        #expect(redactor.redact("key=" + Self.pem + "end") == "key=[secret]end")
        #expect(redactor.redact("MIIEvQIBADANBgkqhkiG9w0B") == "[secret]")
        // A line is found without the spaces around it, wherever it sits.
        #expect(redactor.redact("> QEFAASCBKcwggSjAgEAAoIB <") == "> [secret] <")
        #expect(redactor.redact("  \"private_key_id\": \"4f2a9c\",") == "  [secret]")
        #expect(redactor.redact("-----END TEST KEY-----") == "[secret]")
        // Lines shorter than the minimum (`{`, `}`, an empty line, `"n": 1` is 6 and hidden) stay: hiding them would hide too much.
        #expect(redactor.redact("{") == "{" && redactor.redact("}") == "}" && redactor.redact("") == "")
        #expect(redactor.redact("\"n\": 1,") == "[secret],")
        #expect(Redactor([Secret("ab\ncd\nxyz")]).redact("ab cd xyz ab\ncd\nxyz") == "ab cd xyz [secret]")
        // A one-line secret is hidden whatever its length, as before.
        #expect(Redactor([Secret("pw")]).redact("pw=pw") == "[secret]=[secret]")
        #expect(Redactor.minimumLength == 4 && Redactor([Secret("")]).isEmpty)
    }

    @Test func everyTextOfEveryEventIsRedacted() throws {
        let secret = "hunter2-\(UUID().uuidString.prefix(6))"
        let events = [
            RunEvent.commandStarted(host: "web1", command: "echo \(secret)", local: false, detail: true, summary: "say \(secret)"),
            .commandFinished(host: "web1", command: "echo \(secret)", exitStatus: 1, summary: "exit 1 \(secret)", ok: false, duration: 1),
            .output(host: "web1", stream: .stderr, line: "got \(secret)"),
            .transferred(host: "web1", description: "upload \(secret)", bytes: 1, duration: 0),
            .hostFinished(task: "t", host: "web1", status: "failed", ok: false, duration: 1, message: "failed: \(secret)"),
            .note(host: nil, text: "note \(secret)"),
            .assumption(host: "web1", command: "cat \(secret)", because: "\(secret) is there"),
        ]
        let log = EventLog()
        let sink = RedactingSink(log, redactor: Redactor([Secret(secret)]))
        events.forEach(sink.emit)
        #expect(log.all.count == events.count)
        for event in log.all {
            let texts = event.json.values.compactMap { $0 as? String }
            #expect(!texts.contains { $0.contains(secret) } && texts.contains { $0.contains("[secret]") }, "\(event.json)")
            #expect((event.json["host"] as? String).map { $0 == "web1" } ?? true)
        }
    }

    /// Through the runner to every sink: an env-file value in a command's
    /// text and summary, and a secret of several lines printed by the host,
    /// in a real run and a dry run.
    @Test func aRunHidesEnvValuesInCommandsAndEachLineOfASecret() async throws {
        let envValue = "api.internal-\(UUID().uuidString.prefix(6))"
        let deployfile = Deployfile("shop") {
            Environment("test") { Host("web1") }
            Task("show", "Show") {
                Run("curl \(Settings["endpoint"]) && printf '%s\\n' \(Settings["key"])")
                Dynamic("call it again") { host in
                    _ = try await host.run(Command(shell: "curl \(host.settings["endpoint"]!)").described("call \(envValue)"))
                }
            }
        }
        let settings = ResolvedSettings(values: ["endpoint": .plain(envValue), "key": .secret(Secret(Self.pem))], hidden: [Secret(envValue)])
        let harness = RecordingHarness(deployfile, hosts: deployfile.environments[0].hosts, settings: settings) { _, backend in
            backend.respond(to: "curl", with: CommandResult(exitStatus: 0, stdout: Data(("calling " + envValue + "\r\n" + Self.pem).utf8)))
        }
        let human = LineLog(), json = LineLog()
        let log = LogFileSink(directory: try TempDir.make().path, task: "show")
        var runner = harness.runner
        runner.sink = FanOutSink([harness.events, HumanSink(style: .plain, verbosity: .verbose) { _, text in human.add(text) },
                                  JSONLinesSink { json.add($0) }, log])
        #expect(await runner.run("show"))
        #expect(await runner.dryRun("show"))
        // The host was sent the values...
        #expect(harness.commands("web1").first?.contains(envValue) == true)
        // ...and nothing shows them: not the command, its summary, nor any line of the key.
        let logText = try String(contentsOfFile: log.path, encoding: .utf8)
        for (name, text) in [("human", human.all), ("json", json.all), ("log", logText), ("events", harness.events.text)] {
            for hidden in [envValue, "MIIEvQIBADANBgkqhkiG9w0B", "QEFAASCBKcwggSjAgEAAoIB", "BEGIN TEST KEY"] {
                #expect(!text.contains(hidden), "\(name) shows \(hidden): \(text)")
            }
            #expect(text.contains("curl [secret] && printf"), "\(name): \(text)")
        }
        #expect(human.all.contains("call [secret]") && human.all.contains("web1  | [secret]\n"), "\(human.all)")
    }
}
