import Foundation
import Testing
@testable import SwiftFab

/// The hosts' history lines, as values: written, read back, merged.
@Suite struct HistoryTests {
    @Test func anEntryIsOneLineWhateverItsFieldsHold() throws {
        let entry = HistoryEntry(time: "2026-12-01T10:00:00Z", who: "ana@laptop", project: "shop/production",
                                 command: "rollback -2", detail: "live: shop 20261201T095900Z-1a2b3c4\tand\na second line\u{7}",
                                 outcome: "ok", seconds: 1.234)
        #expect(!entry.line.contains("\n") && entry.line.split(separator: "\t").count == HistoryEntry.fieldCount)
        let read = try #require(HistoryEntry(line: entry.line))
        #expect(read.detail == "live: shop 20261201T095900Z-1a2b3c4 and a second line " && read.seconds == 1.23 && read.command == "rollback -2")
        #expect(HistoryEntry(line: "not a history line") == nil)
        #expect(HistoryEntry(line: entry.line + "\textra") == nil)
    }

    @Test func hostsHistoriesMergeNewestFirst() {
        func line(_ time: String, _ command: String) -> String {
            HistoryEntry(time: time, who: "ci@runner", project: "shop/prod", command: command, detail: "", outcome: "ok", seconds: 1).line
        }
        let collector = HistoryCollector()
        collector.add(host: "web1", text: [line("2026-12-01T10:00:00Z", "deploy"), line("2026-12-01T10:05:00Z", "rollback")].joined(separator: "\n"))
        collector.add(host: "web22", text: line("2026-12-01T10:02:00Z", "deploy") + "\ngarbage\n")
        let table = collector.table(limit: 2)
        #expect(table.first == "history, newest first (2 of 3 read):")
        #expect(table[1].hasPrefix("  2026-12-01T10:05:00Z  web1   rollback  ok") && table[2].hasPrefix("  2026-12-01T10:02:00Z  web22  deploy  ok"), "\(table)")
        #expect(table.last == "  (1 line of the history files not understood)")
        #expect(HistoryCollector().table(limit: 5) == ["history: nothing recorded on these hosts yet"])
    }

    /// Anyone who holds the deploy login can append to the file: what it holds
    /// is shown escaped, so it cannot move the cursor, erase lines, or reorder
    /// (bidi) or hide (zero-width) what the table shows.
    @Test func controlAndInvisibleCharactersAreShownEscaped() {
        let hostile = "deploy \u{1B}[1A\u{1B}[2K\u{9B}2J\u{7F}\u{202E}txet\u{2066}\u{200B}\u{FEFF}\u{2028}\\x"
        let line = ["2026-12-01T10:00:00Z", "eve@x\u{7}", "shop/prod", hostile, "live\u{202D}", "ok\u{1B}]0;title\u{7}", "1.00", "0.1"]
            .joined(separator: "\t")
        let collector = HistoryCollector()
        collector.add(host: "web1", text: line)
        let row = collector.table(limit: 5)[1]
        #expect(!row.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.properties.generalCategory == .format
                                                  || $0 == "\u{2028}" }, "\(row.unicodeScalars.map(\.value))")
        #expect(row.contains(#"deploy \u{1B}[1A\u{1B}[2K\u{9B}2J\u{7F}\u{202E}txet\u{2066}\u{200B}\u{FEFF}\u{2028}\\x"#), "\(row)")
        #expect(row.contains(#"live\u{202D}  ok\u{1B}]0;title\u{7}"#) && row.hasSuffix(#"by eve@x\u{7}"#), "\(row)")
        #expect(VisibleText.escaped("tab\there ünï cødé e\u{301}") == #"tab\there ünï cødé e\#u{301}"#)
    }

    /// A task that records history appends one line per host, whether it
    /// succeeded or failed, with what it said it left; the append is quoted.
    @Test func theRunnerAppendsEachHostsRun() async throws {
        let deployfile = Deployfile("shop", history: "/srv/h's/history.log") {
            Environment("test") { Host("web1"); Host("web2") }
            TaskDefinition(name: "ship", description: "Ship it", options: [.argument("what", help: "What")]) { arguments in
                [Dynamic("ship") { host in
                    host.recordInHistory("shipped \(arguments["what"]) to \(host.host.address)")
                    if host.host.address == "web2" { throw SwiftFabError(.command, "the disk is full\nmore") }
                }]
            }.recordedInHistory()
        }
        let harness = RecordingHarness(deployfile, hosts: deployfile.environments[0].hosts)
        #expect(await harness.runner.run("ship", arguments: ["v2"]) == false)
        for (host, outcome) in [("web1", "\tok\t"), ("web2", "\tfailed: the disk is full\t")] {
            let sent = harness.commands(host).last ?? ""
            #expect(sent.contains("f='/srv/h'\\''s/history.log'") && sent.contains(">> \"$f\""), "\(sent)")
            #expect(sent.contains("\tshop/test\tship v2\tshipped v2 to \(host)\(outcome)"), "\(sent)")
        }
    }
}
