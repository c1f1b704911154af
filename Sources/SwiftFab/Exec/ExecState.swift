import Foundation

/// The bookkeeping of one running command, the same on every backend: its
/// stdin still to write, the end of each output stream, the sudo exchange,
/// and the markers and password filtered out of what it prints.
struct ExecState {
    let options: ExecOptions
    var input: StdinFeed
    /// The command was told its stdin has ended.
    var eofSent = false
    var stdout: OutputTail
    var stderr: OutputTail
    var waitingForSudo = false
    var sudoFailure: SwiftFabError?
    var sudoPrompts = 0
    var expectPID = false
    var pid: Int?
    /// Once set, how many more bytes are streamed on (the rest is only kept
    /// in the tails): after a stop, what the host had already sent can be
    /// megabytes of a flood, and printing it would delay the cleanup.
    private var streamBudget: Int?
    private var pidReport = PIDReport()
    private var filters: [MarkerFilter]
    private var swallowNewline = [false, false]

    init(options: ExecOptions, sudo: SudoMarkers) {
        self.options = options
        input = StdinFeed(head: options.stdin ?? Data(), source: options.stdinSource)
        stdout = OutputTail(limit: options.keepOutput)
        stderr = OutputTail(limit: options.keepOutput)
        waitingForSudo = sudo.prompt != nil
        // Index 0 = sudo prompt, 1 = ready, 2 = password; absent ones never match.
        let bytes = [sudo.prompt, sudo.ready, options.sudoPassword?.reveal()].map { $0.map { Array($0.utf8) } ?? [] }
        let replacements = [[], [], Array("[secret]".utf8)] as [[UInt8]]
        filters = [MarkerFilter(bytes, replacements: replacements), MarkerFilter(bytes, replacements: replacements)]
    }

    /// Takes a chunk of output; returns bytes to write back (a sudo password).
    mutating func receive(_ stream: StdStream, _ chunk: [UInt8]) -> [UInt8]? {
        var bytes = chunk
        // Our PID report is a line of stderr (stdout with a terminal); what the
        // login shell printed before it (a noisy .bashrc) is output like any other.
        if expectPID && (stream == .stderr || options.pty) {
            bytes = pidReport.take(bytes)
            if let found = pidReport.pid { pid = found; expectPID = false }
        }
        let index = stream == .stdout ? 0 : 1
        var (clean, found) = filters[index].feed(bytes)
        // sudo ends its prompt line with a newline of its own once answered.
        if swallowNewline[index], let first = clean.first {
            if first == UInt8(ascii: "\n") { clean.removeFirst() }
            swallowNewline[index] = false
        }
        if found.contains(0) {
            if let promptEnd = clean.lastIndex(of: UInt8(ascii: "\n")) ?? nil, promptEnd == clean.count - 1 { clean.removeLast() }
            else if clean.isEmpty || !found.contains(1) { swallowNewline[index] = true }
        }
        emit(stream, clean)
        var answer: [UInt8]?
        for marker in found {
            if marker == 0 {
                sudoPrompts += 1
                if sudoPrompts > 1 {
                    sudoFailure = SwiftFabError(.authentication, "sudo refused the password",
                                                hint: "check the sudo password (it is never shown); it is the remote user's login password")
                } else if let password = options.sudoPassword {
                    answer = Array((password.reveal() + "\n").utf8)
                }
            } else if marker == 1 {
                waitingForSudo = false
            }
        }
        return answer
    }

    mutating func finish() {
        emit(.stdout, filters[0].flush())
        emit(.stderr, filters[1].flush())
    }

    func result(exitStatus: Int32, exitSignal: String?, duration: Double, timedOut: Bool) -> CommandResult {
        CommandResult(exitStatus: exitStatus, exitSignal: exitSignal, stdout: stdout.data, stderr: stderr.data, duration: duration,
                      timedOut: timedOut, stdoutDroppedBytes: stdout.dropped, stderrDroppedBytes: stderr.dropped)
    }

    /// From now on, streams at most `bytes` more (see `streamBudget`).
    mutating func limitStreaming(to bytes: Int) { streamBudget = min(streamBudget ?? bytes, bytes) }

    /// Streams a chunk on and keeps only the end of each stream for the result.
    private mutating func emit(_ stream: StdStream, _ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if stream == .stdout { stdout.append(bytes) } else { stderr.append(bytes) }
        if let budget = streamBudget {
            guard budget > 0 else { return }
            streamBudget = budget - bytes.count
        }
        options.onOutput?(OutputChunk(stream: stream, bytes: Data(bytes)))
    }
}
