/// Hides a run's secrets in every event before any sink renders it: the
/// screen, `--json`, the run log and a dry run's plan all get the same text.
/// Commands show their own secrets as `[secret]` already; this also hides
/// what the run knows to be secret but a command carries as plain text (an
/// app's env-file values) and what hosts print.
public struct RedactingSink: EventSink {
    public let sink: any EventSink
    public let redactor: Redactor

    public init(_ sink: any EventSink, redactor: Redactor) {
        self.sink = sink
        self.redactor = redactor
    }

    public func emit(_ event: RunEvent) {
        sink.emit(redactor.isEmpty ? event : event.redacted(by: redactor))
    }
}

extension RunEvent {
    /// The event with `redactor` applied to each text in it; the names of
    /// tasks, hosts and the environment are the Deployfile's own, kept as they are.
    public func redacted(by redactor: Redactor) -> RunEvent {
        let hide = redactor.redact
        switch self {
        case .runStarted, .taskStarted, .runFinished:
            return self
        case .taskFinished(let task, let ok, let duration, let exitCode, let verdict):
            let hidden = verdict.map { Verdict(hide($0.text), exitCode: $0.exitCode, isFailure: $0.isFailure) }
            return .taskFinished(task: task, ok: ok, duration: duration, exitCode: exitCode, verdict: hidden)
        case .commandStarted(let host, let command, let local, let detail, let summary):
            return .commandStarted(host: host, command: hide(command), local: local, detail: detail, summary: summary.map(hide))
        case .commandFinished(let host, let command, let exitStatus, let summary, let ok, let duration):
            return .commandFinished(host: host, command: hide(command), exitStatus: exitStatus, summary: hide(summary), ok: ok, duration: duration)
        case .output(let host, let stream, let line, let detail):
            return .output(host: host, stream: stream, line: hide(line), detail: detail)
        case .transferred(let host, let description, let bytes, let duration):
            return .transferred(host: host, description: hide(description), bytes: bytes, duration: duration)
        case .hostFinished(let task, let host, let status, let ok, let duration, let message):
            return .hostFinished(task: task, host: host, status: status, ok: ok, duration: duration, message: message.map(hide))
        case .note(let host, let text):
            return .note(host: host, text: hide(text))
        case .result(let host, let text):
            return .result(host: host, text: hide(text))
        case .assumption(let host, let command, let because):
            return .assumption(host: host, command: hide(command), because: hide(because))
        case .record(let host, let kind, let fields):
            return .record(host: host, kind: kind, fields: fields.mapValues(hide))
        }
    }
}
