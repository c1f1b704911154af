import Foundation
import Testing
@testable import SwiftFab

/// Through the real `swiftfab`, a Deployfile and a sandbox host: what a run
/// hides stays hidden in every place it is shown or written, and what a
/// host's history file holds reaches the terminal escaped.
@Suite(.serialized, .sandbox) struct RedactionCLITests {
    var hosts: TestHosts { .shared }
    let cli = DeployfileCLITests()
    static let host = "th38"

    func remote(_ script: String) async -> (status: Int32, output: String) {
        await Shell.runLocally(["/usr/bin/ssh", "-F", hosts.sshConfig, Self.host, script])
    }

    /// A key of several lines and a JSON credential (`\r\n`) printed by the
    /// host, and an env-file value in a command's text and on the command line:
    /// in none of the output, `--json`, `--dry-run`, the run logs (their first
    /// line included), the host's history file or `swiftfab history`.
    @Test func secretsOfSeveralLinesAndEnvValuesNeverShow() async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let root = "/srv/redaction-\(tag)"
        let envValue = "api-\(tag).internal"
        let keyLines = ["MIIEvQIBADANBgkqhkiG9w0B\(tag)", "QEFAASCBKcwggSjAgEAAoIB\(tag)"]
        let key = "-----BEGIN TEST KEY-----\n" + keyLines.joined(separator: "\n") + "\n-----END TEST KEY-----\n"
        let credential = "{\r\n  \"private_key\": \"k-\(tag)-value\",\r\n  \"n\": 1\r\n}"
        let hidden = [envValue, "BEGIN TEST KEY", "k-\(tag)-value"] + keyLines
        let dir = try cli.project(#"""
            import SwiftFab

            let deployfile = Deployfile("vault", history: "\#(root)/history.log") {
                Environment("one", default: true) { Host("\#(Self.host)") }
                EnvFile("app.env")
                HideValues(ofEnvFile: "app.env")
                Setting("endpoint", .env("APP_ENDPOINT"))
                Setting("key", .secret(env: "VAULT_KEY"))
                Setting("credential", .secret(env: "VAULT_CREDENTIAL"))
                Task("show", "Call the endpoint, print the key", arguments: "note") { arguments in
                    Run("echo calling \(Settings["endpoint"]) for \(arguments["note"])")
                    Run("printf '%s\\n' \(Settings["key"]) \(Settings["credential"])")
                }.recordedInHistory()
            }
            """#)
        try "APP_ENDPOINT=\(envValue)\n".write(toFile: dir + "/app.env", atomically: true, encoding: .utf8)
        func swiftfab(_ arguments: String...) async -> (status: Int32, output: String) {
            await cli.swiftfab(arguments + ["-F", hosts.sshConfig], in: dir, environment: ["VAULT_KEY": key, "VAULT_CREDENTIAL": credential])
        }
        func expectHidden(_ text: String, in place: String, sourceLocation: SourceLocation = #_sourceLocation) {
            for value in hidden { #expect(!text.contains(value), "\(place) shows \(value):\n\(text)", sourceLocation: sourceLocation) }
        }

        let run = await swiftfab("show", envValue)
        #expect(run.status == 0, "\(run.output)")
        // The command ran (the host printed every line), and what shows is the mask.
        #expect(run.output.contains("$ echo calling [secret] for [secret]"), "\(run.output)")
        #expect(run.output.components(separatedBy: " | [secret]\n").count == 5 && run.output.contains(" |   [secret]\n"), "\(run.output)")
        #expect(run.output.contains(" | {\n") && run.output.contains(" | }\n"), "\(run.output)")
        expectHidden(run.output, in: "the output")

        let json = await swiftfab("show", envValue, "--json")
        #expect(json.status == 0, "\(json.output)")
        let events = json.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.contains { $0["event"] as? String == "command_start" && $0["command"] as? String == "echo calling [secret] for [secret]" })
        expectHidden(json.output, in: "--json")

        let dry = await swiftfab("show", envValue, "--dry-run", "-v")
        #expect(dry.status == 0 && dry.output.contains("$ echo calling [secret] for [secret]"), "\(dry.output)")
        expectHidden(dry.output, in: "--dry-run")

        let logs = try FileManager.default.contentsOfDirectory(atPath: dir + "/.swiftfab/logs").filter { $0.hasSuffix(".log") }
        #expect(logs.count == 3)
        for name in logs {
            let log = try String(contentsOfFile: dir + "/.swiftfab/logs/" + name, encoding: .utf8)
            expectHidden(log, in: "the log \(name)")
            let first = try #require(try JSONSerialization.jsonObject(with: Data(log.prefix { $0 != "\n" }.utf8)) as? [String: Any])
            #expect(first["event"] as? String == "invocation" && (first["arguments"] as? [String])?.prefix(2) == ["show", "[secret]"], "\(first)")
        }

        let file = await remote("cat \(root)/history.log")
        // Each word is hidden before the words are quoted (a quoted secret would no longer match).
        #expect(file.status == 0 && file.output.contains("\tshow '[secret]'\t"), "\(file.output)")
        expectHidden(file.output, in: "the host's history")
        let history = await swiftfab("history")
        #expect(history.status == 0 && history.output.contains("show '[secret]'  ok"), "\(history.output)")
        expectHidden(history.output, in: "swiftfab history")
        _ = await remote("rm -rf \(root)")
    }

    /// A line appended by hand to the history (the deploy login can write it)
    /// with cursor moves, a C1 control, bidi and zero-width characters.
    @Test func historyFromTheHostIsShownEscaped() async throws {
        let root = "/srv/history-\(UUID().uuidString.prefix(8).lowercased())"
        let dir = try cli.project("""
            import SwiftFab

            let deployfile = Deployfile("vault", history: "\(root)/history.log") {
                Environment("one", default: true) { Host("\(Self.host)") }
            }
            """)
        // printf's octal escapes: ESC, U+202E (bidi override), U+200B (zero width), U+009B (C1 CSI), BEL.
        let format = #"2026-12-01T10:00:00Z\teve@x\tvault/one\tdeploy \033[1A\033[2K\342\200\256txet\342\200\213\302\2332J\t\tok\007\t1.00\t0.1\n"#
        let written = await remote("mkdir -p \(root) && printf '\(format)' > \(root)/history.log")
        #expect(written.status == 0, "\(written.output)")
        let history = await cli.swiftfab(["history", "-F", hosts.sshConfig], in: dir)
        #expect(history.status == 0, "\(history.output)")
        for raw in ["\u{1B}", "\u{202E}", "\u{200B}", "\u{9B}", "\u{7}"] {
            #expect(!history.output.unicodeScalars.contains(raw.unicodeScalars.first!), "\(raw.unicodeScalars.map(\.value)) in \(history.output)")
        }
        #expect(history.output.contains(#"deploy \u{1B}[1A\u{1B}[2K\u{202E}txet\u{200B}\u{9B}2J  ok\u{7}"#), "\(history.output)")
        _ = await remote("rm -rf \(root)")
    }
}
