import Foundation

/// `swiftfab history [-n N]`, in every Deployfile (unless it defines its
/// own): the hosts' history logs merged, newest first.
enum HistoryTask {
    static let lines = Option("lines", short: "n", value: "N", help: "How many entries to show, across the hosts", default: 20, minimum: 1)

    static func definition(file: String) -> TaskDefinition { TaskDefinition(
        name: "history", description: "Show what swiftfab did on the hosts (deploys, rollbacks, restores...), newest first",
        options: [lines]
    ) { arguments in
        let count = arguments[lines]
        let collector = HistoryCollector()
        return [
            Dynamic("read the history") { host in
                collector.add(host: host.host.address, text: try await host.output(HistoryLog.read(file, last: count)))
            },
            AfterAllHosts { _ in collector.table(limit: count) },
        ]
    } }
}

/// The entries each host returned, merged into one table.
final class HistoryCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(host: String, entry: HistoryEntry)] = []
    private var unreadable = 0

    func add(host: String, text: String) {
        let lines = text.split(separator: "\n").map(String.init)
        let parsed = lines.compactMap(HistoryEntry.init(line:))
        lock.withLock {
            entries += parsed.map { (host, $0) }
            unreadable += lines.count - parsed.count
        }
    }

    /// Newest first (hosts' entries of one second in host order), `limit` rows.
    func table(limit: Int) -> [String] {
        let (all, skipped) = lock.withLock { (entries, unreadable) }
        guard !all.isEmpty else { return ["history: nothing recorded on these hosts yet"] }
        let rows = all.enumerated().sorted { a, b in
            a.element.entry.time != b.element.entry.time ? a.element.entry.time > b.element.entry.time : a.offset < b.offset
        }.prefix(limit).map(\.element)
        let hostWidth = rows.map(\.host.count).max() ?? 0
        var lines = ["history, newest first (\(rows.count) of \(all.count) read):"]
        // The files are the hosts' (whoever holds the login can append to them): shown escaped, never raw to a terminal.
        let shown = { (text: String) in VisibleText.escaped(text) }
        for (host, entry) in rows {
            let detail = entry.detail.isEmpty ? "" : "  " + shown(entry.detail)
            lines.append("  \(shown(entry.time))  \(host.padding(toLength: hostWidth, withPad: " ", startingAt: 0))  \(shown(entry.command))\(detail)  "
                         + "\(shown(entry.outcome))  \(Format.seconds(entry.seconds))  by \(shown(entry.who))")
        }
        if skipped > 0 { lines.append("  (\(skipped) line\(skipped == 1 ? "" : "s") of the history files not understood)") }
        return lines
    }
}
