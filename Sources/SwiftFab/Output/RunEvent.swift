import Foundation

/// Everything a run reports, in order. Formatters turn these into human
/// output, JSON lines or the log file. Command text and output in events
/// are already redacted.
public enum RunEvent: Sendable {
    case runStarted(task: String, environment: String, hosts: [String], dryRun: Bool)
    case taskStarted(task: String, hosts: [String], strategy: String)
    /// `exitCode`: what the run exits with so far; `verdict`: how the task
    /// itself summed up its hosts (doctor's warnings), when it did.
    case taskFinished(task: String, ok: Bool, duration: Double, exitCode: Int32 = 0, verdict: Verdict? = nil)
    /// `detail`: run by a recipe's own code (shown to people only with -v).
    /// `summary`: what it does, in words (a dry run shows it).
    case commandStarted(host: String, command: String, local: Bool, detail: Bool = false, summary: String? = nil)
    case commandFinished(host: String, command: String, exitStatus: Int32, summary: String, ok: Bool, duration: Double)
    case output(host: String, stream: StdStream, line: String, detail: Bool = false)
    case transferred(host: String, description: String, bytes: Int64, duration: Double)
    case hostFinished(task: String, host: String, status: String, ok: Bool, duration: Double, message: String?)
    /// A line of swiftfab's or a task's own: progress, warnings (stderr).
    case note(host: String?, text: String)
    /// A line of what the task was asked to show (a listing, a table, a
    /// report): standard output, so it can be piped.
    case result(host: String?, text: String)
    case runFinished(ok: Bool, duration: Double)
    /// --dry-run: an answer the run depends on, assumed rather than asked for.
    case assumption(host: String, command: String, because: String)
    /// A structured result (one of doctor's findings): for tools and the run
    /// log, one JSON object with `kind` as its event; people read the same
    /// as the task's result lines.
    case record(host: String?, kind: String, fields: [String: String])

    /// The event as one JSON object (for --json and tooling).
    public var json: [String: Any] {
        var object: [String: Any] = ["time": ISO8601DateFormatter.withFractions.string(from: Date())]
        switch self {
        case .runStarted(let task, let environment, let hosts, let dryRun):
            object.merge(["event": "run_start", "task": task, "environment": environment, "hosts": hosts, "dry_run": dryRun]) { $1 }
        case .taskStarted(let task, let hosts, let strategy):
            object.merge(["event": "task_start", "task": task, "hosts": hosts, "strategy": strategy]) { $1 }
        case .taskFinished(let task, let ok, let duration, let exitCode, let verdict):
            object.merge(["event": "task_end", "task": task, "ok": ok, "duration": duration, "exit_status": Int(exitCode)]) { $1 }
            if let verdict { object["verdict"] = verdict.text }
        case .commandStarted(let host, let command, let local, let detail, let summary):
            object.merge(["event": "command_start", "host": host, "command": command, "local": local, "detail": detail]) { $1 }
            if let summary { object["summary"] = summary }
        case .commandFinished(let host, let command, let exitStatus, let summary, let ok, let duration):
            object.merge(["event": "command_end", "host": host, "command": command, "exit_status": Int(exitStatus),
                          "result": summary, "ok": ok, "duration": duration]) { $1 }
        case .output(let host, let stream, let line, _):
            object.merge(["event": "output", "host": host, "stream": stream.rawValue, "line": line]) { $1 }
        case .transferred(let host, let description, let bytes, let duration):
            object.merge(["event": "transfer", "host": host, "description": description, "bytes": bytes, "duration": duration]) { $1 }
        case .hostFinished(let task, let host, let status, let ok, let duration, let message):
            object.merge(["event": "host_result", "task": task, "host": host, "status": status, "ok": ok, "duration": duration]) { $1 }
            if let message { object["message"] = message }
        case .note(let host, let text):
            object.merge(["event": "note", "text": text]) { $1 }
            if let host { object["host"] = host }
        case .result(let host, let text):
            // A note as before, marked: tools that read notes still find every line.
            object.merge(["event": "note", "kind": "result", "text": text]) { $1 }
            if let host { object["host"] = host }
        case .runFinished(let ok, let duration):
            object.merge(["event": "run_end", "ok": ok, "duration": duration]) { $1 }
        case .assumption(let host, let command, let because):
            object.merge(["event": "assumption", "host": host, "command": command, "assumed": because]) { $1 }
        case .record(let host, let kind, let fields):
            object.merge(fields) { $1 }
            object["event"] = kind
            if let host { object["host"] = host }
        }
        return object
    }

    public var jsonLine: String {
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}

/// Receives a run's events. Called from many hosts' threads at once.
public protocol EventSink: Sendable {
    func emit(_ event: RunEvent)
}

/// Sends each event to several sinks.
public struct FanOutSink: EventSink {
    public let sinks: [any EventSink]
    public init(_ sinks: [any EventSink]) { self.sinks = sinks }
    public func emit(_ event: RunEvent) { sinks.forEach { $0.emit(event) } }
}

/// `--json`: one JSON object per line on standard output.
public final class JSONLinesSink: EventSink, @unchecked Sendable {
    private let lock = NSLock()
    private let write: @Sendable (String) -> Void
    public init(write: @escaping @Sendable (String) -> Void = { StandardStreams.write($0, to: .stdout) }) {
        self.write = write
    }
    public func emit(_ event: RunEvent) {
        let line = event.jsonLine + "\n"
        lock.lock()
        defer { lock.unlock() }
        write(line)
    }
}
