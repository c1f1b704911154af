import Foundation

/// Performs one host's plan items on its backend, reporting each command,
/// its output lines (secrets redacted) and its result as events. `sink`
/// hides the run's secrets (`TaskRunner.events`); the executor adds each
/// command's own secrets to its output.
struct HostExecutor: Sendable {
    let host: HostDefinition
    let backend: any Backend
    let local: any Backend
    let sink: any EventSink
    let settings: ResolvedSettings
    let arguments: TaskArguments
    var outcome = RunOutcome()
    /// Where `recordInHistory` puts what the task left on this host.
    var history: HistoryDetails?

    /// Interrupts before this host started; one more stops its next step.
    let interrupts = Interrupt.count

    func perform(_ items: [PlanItem]) async throws {
        for item in items {
            if Interrupt.count > interrupts { throw Interrupt.error(host: host.address, "the steps after this point were not started") }
            try await perform(item)
        }
    }

    func perform(_ item: PlanItem) async throws {
        switch item {
        case .command(let command):
            try check(command, try await run(command, on: backend, local: false))
        case .local(let command):
            try check(command, try await run(command, on: local, local: true))
        case .upload(let source, let remote, let mode):
            _ = try await transfer(.upload(local: source, remote: remote, options: TransferOptions(mode: mode)))
        case .download(let remote, let destination):
            _ = try await transfer(.download(remote: remote, local: destination, options: TransferOptions()))
        case .when(let condition, let then, let otherwise):
            let result = try await run(condition, on: backend, local: false, quietOutput: true, isCondition: true)
            try await perform(result.succeeded ? then : otherwise)
        case .dynamic(let description, let body):
            sink.emit(.note(host: host.address, text: "▹ \(description)"))
            var context = HostContext(host: host, arguments: arguments, settings: settings, executeWithOptions: { command, options in
                try await run(command, on: backend, local: false, quietOutput: options.isCheck, isCondition: options.isCheck,
                              detail: true, options: options)
            }, transfer: { request in
                try await transfer(request)
            }, notify: { [sink, host] text in
                sink.emit(.note(host: host.address, text: text))
            }, raiseExitCode: { [outcome] code in outcome.raise(to: code) }, result: { [sink, host] text in
                sink.emit(.result(host: host.address, text: text))
            })
            if let history { context.record = { [host] in history.set(Secret.redact($0, settings.secrets), for: host.address) } }
            context.structured = { [sink, host] kind, fields in sink.emit(.record(host: host.address, kind: kind, fields: fields)) }
            try await body(context)
        case .invoked(let name, let items):
            sink.emit(.note(host: host.address, text: "→ \(name)"))
            try await perform(items)
        }
    }

    /// Moves files and reports it.
    func transfer(_ request: HostContext.TransferRequest) async throws -> TransferSummary {
        if Interrupt.count > interrupts { throw Interrupt.error(host: host.address, "the transfer and the steps after it were not started") }
        let summary: TransferSummary
        let verb: String
        switch request {
        case .upload(let local, let remote, let options):
            summary = try await backend.upload(local, to: remote, options)
            verb = "uploaded"
            if arguments.run.dryRun {
                let files = summary.files == 1 ? "1 file" : "\(summary.files) files"
                // The local file's name only: a temporary folder's name would tell hosts with the same steps apart.
                let name = URL(fileURLWithPath: local).lastPathComponent
                sink.emit(.transferred(host: host.address, description: "upload \(name) (\(files), \(Format.bytes(summary.bytes))) to \(remote)",
                                       bytes: summary.bytes, duration: 0))
                return summary
            }
        case .download(let remote, let local, let options):
            summary = try await backend.download(remote, to: local, options)
            verb = "downloaded"
            if arguments.run.dryRun {
                sink.emit(.transferred(host: host.address, description: "download \(remote) to \(local)", bytes: 0, duration: 0))
                return summary
            }
        }
        sink.emit(.transferred(host: host.address, description: AdHoc.describe(summary, verb: verb), bytes: summary.bytes, duration: summary.duration))
        return summary
    }

    private func check(_ command: Command, _ result: CommandResult) throws {
        guard result.succeeded else {
            let last = Secret.redact(result.stderrText, secrets(command)).split(separator: "\n").last.map(String.init)
            throw SwiftFabError(.command, "`\(command.display)` failed (\(result.summary))", hint: last)
        }
    }

    private func secrets(_ command: Command) -> [Secret] { settings.secrets + command.secrets }

    /// Runs a command with events; output is split into lines and redacted.
    func run(_ command: Command, on backend: any Backend, local: Bool, quietOutput: Bool = false,
             isCondition: Bool = false, detail: Bool = false, options: ExecOptions = ExecOptions()) async throws -> CommandResult {
        // A condition that is false is an answer, not a failure. A recipe's check (in a Dynamic step) is
        // shown only with -v; a When condition is part of the task's own story.
        let display = isCondition ? (detail ? "check " : "if ") + command.display : command.display
        // Once the run is being stopped, only cleanup starts (a recipe's code between two commands does not see the signal).
        if Interrupt.count > interrupts && command.onInterrupt != .cleanup {
            throw Interrupt.error(host: host.address, "`\(command.summary ?? display)` and the steps after it were not started")
        }
        sink.emit(.commandStarted(host: host.address, command: display, local: local, detail: detail, summary: command.summary))
        let lines = LineEmitter(host: host.address, sink: sink, secrets: secrets(command), silent: quietOutput, detail: detail)
        var options = options
        let callerOutput = options.onOutput
        options.onOutput = { chunk in lines.feed(chunk); callerOutput?(chunk) }
        let result = try await backend.run(command, options)
        lines.finish()
        if let why = result.assumed { sink.emit(.assumption(host: host.address, command: display, because: why)) }
        let summary = isCondition ? (result.succeeded ? "yes" : "no (\(result.summary))") : result.summary
        sink.emit(.commandFinished(host: host.address, command: display, exitStatus: result.exitStatus, summary: summary,
                                   ok: result.succeeded || (isCondition && !result.timedOut && result.exitSignal == nil), duration: result.duration))
        if isCondition && (result.timedOut || result.exitSignal != nil) {
            throw SwiftFabError(.command, "the condition `\(command.display)` did not finish (\(result.summary))")
        }
        return result
    }
}

/// Turns output chunks into redacted line events.
final class LineEmitter: @unchecked Sendable {
    private let lock = NSLock()
    private var splitters: [StdStream: LineSplitter] = [:]
    private let host: String
    private let sink: any EventSink
    private let redactor: Redactor
    private let silent: Bool
    private let detail: Bool

    init(host: String, sink: any EventSink, secrets: [Secret], silent: Bool, detail: Bool = false) {
        self.host = host
        self.sink = sink
        redactor = Redactor(secrets)
        self.silent = silent
        self.detail = detail
    }

    func feed(_ chunk: OutputChunk) {
        if silent { return }
        lock.lock()
        // In place: a copy would duplicate the held partial line on every chunk.
        // A long line comes out in pieces; none ends inside a hidden value, so each piece is redacted whole.
        let lines = splitters[chunk.stream, default: LineSplitter(keepWhole: redactor.needles)].feed(chunk.bytes)
        lock.unlock()
        lines.forEach { sink.emit(.output(host: host, stream: chunk.stream, line: redactor.redact($0), detail: detail)) }
    }

    func finish() {
        lock.lock()
        let rest = splitters.compactMap { stream, splitter -> (StdStream, String)? in
            var copy = splitter
            return copy.flush().map { (stream, $0) }
        }
        lock.unlock()
        if !silent { rest.forEach { sink.emit(.output(host: host, stream: $0.0, line: redactor.redact($0.1), detail: detail)) } }
    }
}
