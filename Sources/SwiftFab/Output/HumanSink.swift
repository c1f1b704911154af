import Foundation

/// What people read: task headers with timings, each command and its output
/// lines labelled by host, and a result table per task.
public final class HumanSink: EventSink, @unchecked Sendable {
    public enum Verbosity: Int, Sendable { case quiet, normal, verbose }

    private let lock = NSLock()
    private let style: Style
    private let verbosity: Verbosity
    private let write: @Sendable (StdStream, String) -> Void
    private var printer: HostPrinter
    /// --dry-run: what each host would do, per task, shown grouped when the task ends.
    private var dryRun = false
    private var currentTask = ""
    private var wouldDo: [String: [String]] = [:]
    private var hostOrder: [String: [String]] = [:]
    private var results: [String: [(host: String, status: String, ok: Bool, duration: Double, message: String?)]] = [:]
    /// Hosts whose command in flight is a recipe's detail (its answer is not the task's story).
    private var inDetail: Set<String> = []

    public init(style: Style, verbosity: Verbosity = .normal,
                write: @escaping @Sendable (StdStream, String) -> Void = HostPrinter.standardWrite) {
        self.style = style
        self.verbosity = verbosity
        self.write = write
        printer = HostPrinter(hosts: [], style: style, write: write)
    }

    public func emit(_ event: RunEvent) {
        lock.lock()
        defer { lock.unlock() }
        if dryRun, plan(event) { return }
        switch event {
        case .runStarted(let task, let environment, let hosts, let dryRun):
            printer = HostPrinter(hosts: hosts + ["local"], style: style, write: write)
            self.dryRun = dryRun
            let mode = dryRun ? style.paint(" (dry run: nothing is run; what each host would do)", .yellow) : ""
            write(.stderr, style.paint("swiftfab \(task)", .cyan, bold: true) + " on \(environment): \(hosts.count) host\(hosts.count == 1 ? "" : "s")\(mode)\n")
        case .taskStarted(let task, let hosts, let strategy):
            results[task] = []
            currentTask = task
            wouldDo = [:]
            hostOrder[task] = hosts
            write(.stderr, style.paint("▸ \(task)", .blue, bold: true) + " on \(hosts.joined(separator: ", "))" + (strategy == "parallel" ? "" : " (\(strategy))") + "\n")
        case .commandStarted(let host, let command, let local, let detail, _):
            if detail { inDetail.insert(host) } else { inDetail.remove(host) }
            if verbosity == .verbose || (verbosity == .normal && !detail) {
                printer.note(host, style.paint((local ? "local $ " : "$ ") + command, .cyan))
            }
        case .commandFinished(let host, let command, _, let summary, let ok, let duration):
            // A When condition's answer (a recipe's own shell may start with `if` too: that is no condition).
            if command.hasPrefix("if "), verbosity != .quiet, !inDetail.contains(host) {
                printer.note(host, style.paint("  → \(summary)", .yellow))
            } else if verbosity == .verbose || !ok { printer.note(host, style.paint("\(ok ? "✓" : "✗") \(summary) in \(Format.seconds(duration))", ok ? .green : .red)) }
        case .output(let host, let stream, let line, let detail):
            if verbosity == .verbose || (verbosity == .normal && !detail) { printer.line(host, stream, line) }
        case .transferred(let host, let description, _, _):
            if verbosity != .quiet { printer.note(host, description) }
        case .note(let host, let text):
            if let host { printer.note(host, text) } else { write(.stderr, text + "\n") }
        case .result(let host, let text):
            // Labelled by host when the task runs on several, as their output is; else the bare lines, for pipes.
            if let host, (hostOrder[currentTask]?.count ?? 0) > 1 { printer.note(host, text, to: .stdout) } else { write(.stdout, text + "\n") }
        case .hostFinished(let task, let host, let status, let ok, let duration, let message):
            results[task, default: []].append((host, status, ok, duration, message))
        case .taskFinished(let task, let ok, let duration, let exitCode, let verdict):
            write(.stderr, table(task) + ending(task, ok: ok, exitCode: exitCode, verdict: verdict) + " in \(Format.seconds(duration))\n")
        case .runFinished:
            break
        case .assumption, .record:
            break
        }
    }

    /// A dry run's events: each host's steps are kept (a summary line each, the
    /// exact shell too with -v, and the answers assumed), and shown when the
    /// task ends, hosts with the same steps together. False for the events a
    /// dry run shows as a real run does.
    private func plan(_ event: RunEvent) -> Bool {
        switch event {
        case .commandStarted(let host, let command, let local, _, let summary):
            let prefix = local ? "here: " : ""
            wouldDo[host, default: []].append(prefix + (summary ?? "$ " + command))
            if summary != nil && verbosity == .verbose { wouldDo[host, default: []].append("    $ " + command) }
        case .assumption(let host, _, let because):
            wouldDo[host, default: []].append("    (assuming \(because))")
        case .transferred(let host, let description, _, _):
            wouldDo[host, default: []].append(description)
        case .note(let host?, let text), .result(let host?, let text):
            wouldDo[host, default: []].append(text)
        case .output, .commandFinished:
            break
        case .taskFinished(let task, let ok, _, _, _):
            var groups: [(hosts: [String], lines: [String])] = []
            for host in hostOrder[task] ?? [] {
                let lines = wouldDo[host] ?? []
                if let index = groups.firstIndex(where: { $0.lines == lines }) { groups[index].hosts.append(host) } else { groups.append(([host], lines)) }
            }
            for group in groups where !group.lines.isEmpty {
                write(.stdout, "  " + style.paint(group.hosts.joined(separator: ", "), .cyan) + ":\n")
                for line in group.lines { write(.stdout, "    " + line + "\n") }
            }
            let failed = (results[task] ?? []).contains { !$0.ok }
            write(.stderr, (failed ? table(task) : "") + style.paint(ok && !failed ? "✓ \(task): dry run, nothing was run" : "✗ \(task) would fail (dry run, nothing was run)",
                                                                     ok && !failed ? .green : .red, bold: true) + "\n")
        default:
            return false
        }
        return true
    }

    /// The task's last line, which agrees with the exit status: done (0), its
    /// verdict (doctor's `2 failures`, provision's pending changes), or failed.
    private func ending(_ task: String, ok: Bool, exitCode: Int32, verdict: Verdict?) -> String {
        // A verdict sums up hosts that all answered: with a failed one it would say too little.
        // A host stopped by Ctrl-C or SIGTERM (its row says what it left) makes the task stopped, not failed.
        let stopped = (results[task] ?? []).contains { $0.status == "stopped" }
        guard ok else { return style.paint("✗ \(task) \(stopped ? "stopped" : "failed")", .red, bold: true) }
        guard let verdict, verdict.exitCode == exitCode else {
            return exitCode == 0 ? style.paint("✓ \(task) done", .green, bold: true)
                : style.paint("! \(task) done, exit status \(exitCode)", .yellow, bold: true)
        }
        if exitCode == 0 { return style.paint("✓ \(task): \(verdict.text)", .green, bold: true) }
        return verdict.isFailure ? style.paint("✗ \(task): \(verdict.text)", .red, bold: true) : style.paint("! \(task): \(verdict.text)", .yellow, bold: true)
    }

    private func table(_ task: String) -> String {
        let order = hostOrder[task] ?? []
        let rows = (results[task] ?? []).sorted { (order.firstIndex(of: $0.host) ?? .max) < (order.firstIndex(of: $1.host) ?? .max) }
        guard !rows.isEmpty else { return "" }
        let width = max(4, rows.map(\.host.count).max() ?? 0)
        var text = ""
        for row in rows {
            let status = style.paint(row.status.padding(toLength: 8, withPad: " ", startingAt: 0), row.ok ? .green : .red, bold: !row.ok)
            text += "  " + row.host.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + status + " " + Format.seconds(row.duration)
            if let message = row.message { text += "  " + message.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: width + 14)) }
            text += "\n"
        }
        return text
    }
}

/// Every run also leaves a full, plain, redacted log under `.swiftfab/logs/`.
///
/// Hosts' output is kept up to `outputLimit` bytes: a command that prints
/// without end (`yes`, a `tail -f`) must not fill the operator's disk. What
/// swiftfab itself says (steps, results, errors) is always kept.
public final class LogFileSink: EventSink, @unchecked Sendable {
    public static let defaultOutputLimit = 64 << 20
    private let lock = NSLock()
    private let handle: FileHandle?
    private let outputLimit: Int
    private var outputLogged = 0
    private var outputCut = false
    public let path: String

    /// `invocation`: the command line, recorded first with who ran it and
    /// which swiftfab (secrets in it are the caller's to have redacted).
    public init(directory: String, task: String, invocation: [String]? = nil, outputLimit: Int = LogFileSink.defaultOutputLimit) {
        self.outputLimit = outputLimit
        let stamp = ISO8601DateFormatter.withFractions.string(from: Date()).replacingOccurrences(of: ":", with: "")
        let safeTask = task.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        path = "\(directory)/\(stamp)-\(String(safeTask)).log"
        // The log names hosts, commands and their output: for the operator's eyes only.
        try? PrivateFile.makeDirectory(directory)
        // Logs never belong in the repository (and must not make a deploy's tree dirty).
        // Written only if nothing is there, not even a symlink.
        try? PrivateFile.write(Data("*\n".utf8), to: directory + "/.gitignore")
        // Without a log file the run goes on: the log is a record, not a requirement.
        handle = try? PrivateFile.create(path)
        if let invocation {
            let record: [String: AnyEncodable] = ["event": .init("invocation"), "arguments": .init(invocation), "user": .init(Operator.name),
                                                  "version": .init(SwiftFabVersion.current), "directory": .init(FileManager.default.currentDirectoryPath)]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if let json = try? encoder.encode(record) { handle?.write(json + Data("\n".utf8)) }
        }
    }

    public func emit(_ event: RunEvent) {
        var line = event.jsonLine + "\n"
        lock.lock()
        defer { lock.unlock() }
        if case .output(let host, _, let text, _) = event {
            if outputCut { return }
            outputLogged += text.utf8.count
            if outputLogged > outputLimit {
                outputCut = true
                line = RunEvent.note(host: host, text: "the hosts' output beyond \(outputLimit >> 20) MiB is not in this log (it was shown as it came)").jsonLine + "\n"
            }
        }
        handle?.write(Data(line.utf8))
    }

    deinit { try? handle?.close() }
}

/// A value of any encodable type, for one-off JSON records.
struct AnyEncodable: Encodable {
    private let encodeValue: (Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encodeValue = value.encode }
    func encode(to encoder: Encoder) throws { try encodeValue(encoder) }
}
