import Foundation

/// What swiftfab did on a host, one line per run of a task that records
/// history (deploy, rollback, promote, restore, prune...), appended to
/// `~/.swiftfab/history.log` of the login user on that host. Append-only: a
/// line is one short write in O_APPEND mode, so runs from two laptops never
/// interleave inside a line. Tab-separated, one entry per line.
public struct HistoryEntry: Sendable, Equatable {
    /// UTC, ISO 8601 to the second: sorts as text.
    public var time: String
    /// `user@machine` that ran it.
    public var who: String
    /// The Deployfile's name and the environment: two apps may share a login.
    public var project: String
    /// The task and its arguments, as given.
    public var command: String
    /// What the host was left with (a release, a backup), as the task said.
    public var detail: String
    /// `ok`, `failed: why`, or `stopped: why`.
    public var outcome: String
    public var seconds: Double
    public var version: String

    public static let fieldCount = 8

    /// One line; tabs, line breaks and other control characters become spaces.
    public var line: String {
        [time, who, project, command, detail, outcome, String(format: "%.2f", seconds), version]
            .map(Self.flatten).joined(separator: "\t")
    }

    public init(time: String, who: String, project: String, command: String, detail: String, outcome: String,
                seconds: Double, version: String = SwiftFabVersion.current) {
        (self.time, self.who, self.project, self.command) = (time, who, project, command)
        (self.detail, self.outcome, self.seconds, self.version) = (detail, outcome, seconds, version)
    }

    /// Nil for a line that is not an entry (damaged, or written by someone else).
    public init?(line: String) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == Self.fieldCount, fields[0].count == 20, let seconds = Double(fields[6]) else { return nil }
        self.init(time: fields[0], who: fields[1], project: fields[2], command: fields[3], detail: fields[4], outcome: fields[5],
                  seconds: seconds, version: fields[7])
    }

    static func flatten(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    }

    public static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}

/// The commands that write and read a host's history file.
public enum HistoryLog {
    public static let defaultFile = "~/.swiftfab/history.log"

    /// `file` as shell text: `~/` is the login user's home, the rest quoted.
    static func path(_ file: String) -> ShellString {
        file.hasPrefix("~/") ? "\"$HOME\"/\(String(file.dropFirst(2)))" : "\(file)"
    }

    /// Appends `entry` (private to the login user).
    public static func append(_ entry: HistoryEntry, to file: String) -> Command {
        let path = path(file)
        return Command(shell: "umask 077; f=\(path); mkdir -p \"$(dirname \"$f\")\" && printf '%s\\n' \(entry.line) >> \"$f\"")
            .described("append this run to the host's history (\(file))")
    }

    /// The newest `count` lines (empty when there is no history yet).
    public static func read(_ file: String, last count: Int) -> Command {
        Command(shell: "tail -n \(String(count)) \(path(file)) 2>/dev/null || true").described("read the host's history (\(file))")
    }
}

/// Who runs swiftfab, as history, locks and release metadata record it: `user@machine`.
public enum Operator {
    public static var name: String {
        let user = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "unknown"
        return user + "@" + ProcessInfo.processInfo.hostName
    }
}

/// What a task run said it left on each host, for its history line.
final class HistoryDetails: @unchecked Sendable {
    private let lock = NSLock()
    private var details: [String: String] = [:]
    func set(_ text: String, for host: String) { lock.withLock { details[host] = text } }
    func get(_ host: String) -> String { lock.withLock { details[host] ?? "" } }
}
