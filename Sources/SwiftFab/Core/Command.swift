import Foundation

/// What to run on a host: plain data, built by pure functions, rendered to
/// one shell string only when a backend runs it (or a dry-run shows it).
public struct Command: Sendable, Hashable {
    /// The command as shell text: literal parts are syntax, values are quoted.
    public var script: ShellString
    /// Environment variables, passed as a quoted `env K=V` prefix because
    /// sshd refuses most `setenv` requests. Values may hold secrets.
    public var environment: [String: ShellString]
    /// Directory to `cd` into first.
    public var directory: String?
    /// Run through `sudo` (optionally as another user).
    public var sudo: Sudo?
    /// What it does, for people: "switch traffic to slot green". A dry run
    /// shows this (the exact shell with -v); nil shows the shell text.
    public var summary: String?
    /// What a dry run takes the host to answer, so the rest of the run can be
    /// shown (a live slot, a list of releases); nil: success with no output.
    public var assumption: Assumption?
    /// What the first Ctrl-C, SIGTERM or closed output does to it (a second
    /// signal exits at once, whatever runs).
    public var onInterrupt = OnInterrupt.stop

    public enum OnInterrupt: Sendable, Hashable {
        /// Stopped with its whole process group; not started once the run is being stopped.
        case stop
        /// Runs to its end once started (the switch, which must not be cut
        /// between its two renames); not started once the run is being stopped.
        case finish
        /// Starts and runs to its end even while the run is being stopped: the
        /// cleanup a stopped run still does (releasing the deploy lock, starting
        /// a paused slot again, asking whether a restore committed).
        case cleanup
    }

    /// An answer assumed in a dry run, and why it is assumed.
    public struct Assumption: Sendable, Hashable {
        public var stdout: String
        public var exitStatus: Int32
        public var because: String
        public init(stdout: String = "", exitStatus: Int32 = 0, because: String) {
            self.stdout = stdout
            self.exitStatus = exitStatus
            self.because = because
        }
    }

    public struct Sudo: Sendable, Hashable {
        public var user: String?
        public init(user: String? = nil) { self.user = user }
    }

    /// A command from words; each one is quoted: `Command("ls", "-l", dir)`.
    public init(_ program: String, _ arguments: String...) {
        self.init(words: [program] + arguments)
    }

    public init(words: [String]) {
        self.init(shell: .words(words))
    }

    /// Shell text whose interpolated values are quoted: `Command(shell: "cd \(dir) && make")`.
    public init(shell script: ShellString) {
        self.script = script
        self.environment = [:]
        self.directory = nil
        self.sudo = nil
        self.summary = nil
        self.assumption = nil
    }

    /// Shell text taken as is: pipes, redirections, `&&`. Building a raw
    /// shell string is explicit so that quoting is never forgotten by accident.
    public static func raw(_ script: String) -> Command {
        Command(shell: .raw(script))
    }

    public func with(environment: [String: String]) -> Command {
        with(shellEnvironment: environment.mapValues { ShellString(parts: [.value($0)]) })
    }

    public func with(secretEnvironment: [String: Secret]) -> Command {
        with(shellEnvironment: secretEnvironment.mapValues { ShellString(parts: [.secret($0)]) })
    }

    public func with(shellEnvironment: [String: ShellString]) -> Command {
        var copy = self
        copy.environment.merge(shellEnvironment) { _, new in new }
        return copy
    }

    public func within(_ directory: String) -> Command {
        var copy = self
        copy.directory = directory
        return copy
    }

    /// The same command, described for people (a dry run's line).
    public func described(_ summary: String) -> Command {
        var copy = self
        copy.summary = summary
        return copy
    }

    /// The same command, with the answer a dry run assumes it gets.
    public func assuming(_ stdout: String = "", exitStatus: Int32 = 0, because: String) -> Command {
        var copy = self
        copy.assumption = Assumption(stdout: stdout, exitStatus: exitStatus, because: because)
        return copy
    }

    /// The same command as cleanup (`OnInterrupt.cleanup`).
    public func asCleanup() -> Command {
        var copy = self
        copy.onInterrupt = .cleanup
        return copy
    }

    /// The same command, never cut short once started (`OnInterrupt.finish`).
    public func finishingWhenInterrupted() -> Command {
        var copy = self
        copy.onInterrupt = .finish
        return copy
    }

    public func asSudo(user: String? = nil) -> Command {
        var copy = self
        copy.sudo = Sudo(user: user)
        return copy
    }

    /// Every secret the command carries (for redacting its output too).
    public var secrets: [Secret] {
        script.secrets + environment.values.flatMap(\.secrets)
    }

    /// The exact shell text sent to the host's login shell.
    /// `sudoPrompt` is the marker the transport watches for to answer sudo;
    /// `readyMarker` is printed once sudo has let the command through.
    public func rendered(sudoPrompt: String? = nil, readyMarker: String? = nil) throws -> String {
        try render(reveal: true, sudoPrompt: sudoPrompt, readyMarker: readyMarker)
    }

    /// The shell text with the secret environment values left out of it: the
    /// text reads them, one line each, from the start of stdin, and `stdin`
    /// holds those lines. So no secret is ever in a command line, where any
    /// user of the host could read it (`ps`, /proc/PID/cmdline) while it runs.
    /// Values with a line break stay in the text (a line cannot carry them).
    public func renderedWithSecretsOnStdin() throws -> (text: String, stdin: Data) {
        let hidden = environment.keys.sorted().filter { name in
            let value = environment[name]!
            return !value.secrets.isEmpty && !value.plainText(reveal: true).contains("\n")
        }
        guard !hidden.isEmpty else { return (try rendered(), Data()) }
        var inner = self   // the script with the plain environment only
        inner.directory = nil
        inner.sudo = nil
        for name in hidden { inner.environment[name] = nil }
        let reads = hidden.map { "IFS= read -r \($0) && export \($0)" }.joined(separator: " && ")
        var outer = Command(shell: .raw(reads + " && exec sh -c " + Shell.quote(try inner.rendered())))
        outer.directory = directory
        outer.sudo = sudo
        let lines = hidden.map { environment[$0]!.plainText(reveal: true) + "\n" }.joined()
        return (try outer.rendered(), Data(lines.utf8))
    }

    /// What people see (plans, dry-runs, logs): the same text, secrets as `[secret]`.
    public var display: String {
        (try? render(reveal: false, sudoPrompt: nil, readyMarker: nil)) ?? script.redacted
    }

    private func render(reveal: Bool, sudoPrompt: String?, readyMarker: String?) throws -> String {
        for name in environment.keys where !Shell.isValidVariableName(name) {
            throw SwiftFabError.invalidInput("environment variable name \(Shell.quote(name)) is not valid",
                                             hint: "use letters, digits and underscores, not starting with a digit")
        }
        var text = script.render(reveal: reveal)
        if !environment.isEmpty {
            let assignments = environment.keys.sorted().map { name in
                Shell.quote("\(name)=\(environment[name]!.plainText(reveal: reveal))")
            }
            text = "env " + assignments.joined(separator: " ") + " sh -c " + Shell.quote(text)
        }
        if let sudo {
            var words = ["sudo"]
            if let prompt = sudoPrompt { words += ["-S", "-p", prompt] } else { words.append("-n") }
            if let user = sudo.user { words += ["-u", user] }
            if let readyMarker { text = "echo \(Shell.quote(readyMarker)) >&2; " + text }
            text = Shell.join(words) + " -- sh -c " + Shell.quote(text)
        }
        if let directory {
            text = "cd " + Shell.quotePath(directory) + " && " + text
        }
        // A command line is a C string on the host: a NUL would cut it short there.
        if text.utf8.contains(0) {
            throw SwiftFabError.invalidInput("a value in `\(script.redacted.replacingOccurrences(of: "\u{0}", with: "\\0"))` holds a NUL byte, which no shell command can carry",
                                             hint: "remove the NUL byte from the value")
        }
        return text
    }
}

extension Command: CustomStringConvertible {
    public var description: String { display }
}

/// How one run of a command behaves.
public struct ExecOptions: Sendable {
    /// Bytes written to the command's standard input, then EOF (small inputs).
    public var stdin: Data?
    /// Input of any size, read a chunk at a time as the command takes it,
    /// after `stdin`'s bytes; EOF follows its end.
    public var stdinSource: StdinSource?
    /// How many bytes of each stream the result keeps: the last ones. All of
    /// the output still goes to `onOutput`; the result says what was dropped.
    public var keepOutput = ExecOptions.defaultKeepOutput
    /// Kill the command (its whole process group) after this many seconds.
    public var timeout: Double?
    /// Allocate a pseudo-terminal (stderr then arrives merged into stdout).
    public var pty: Bool
    /// Answers sudo's password prompt; never echoed, logged or printed.
    public var sudoPassword: Secret?
    /// Called with each chunk of output as it arrives, on the transport's thread.
    public var onOutput: (@Sendable (OutputChunk) -> Void)?
    /// The command asks a question: a non-zero exit is an answer ("no"), not
    /// a failure, and its output is not shown (a provisioning check).
    public var isCheck = false

    /// Enough for recipes that parse an answer (listings, a dump's table of
    /// contents) and for error hints, while a command that prints without end
    /// costs at most this much per stream.
    public static let defaultKeepOutput = 8 << 20

    public init(stdin: Data? = nil, timeout: Double? = nil, pty: Bool = false,
                sudoPassword: Secret? = nil, onOutput: (@Sendable (OutputChunk) -> Void)? = nil) {
        self.stdin = stdin
        self.timeout = timeout
        self.pty = pty
        self.sudoPassword = sudoPassword
        self.onOutput = onOutput
    }
}

/// A command's input read from a file descriptor, a chunk at a time, so its
/// size does not matter. The caller owns the descriptor: it stays open until
/// every run that uses it is over.
public struct StdinSource: Sendable {
    public let fd: Int32
    /// Where a run starts reading with pread(2), so that every run (every
    /// host) gets the same bytes; nil: read(2) once from the current position.
    public let offset: Int64?

    /// A pipe or a terminal: read once, by one run.
    public static func stream(_ fd: Int32) -> StdinSource { StdinSource(fd: fd, offset: nil) }

    /// A regular file: each run reads it from `offset`, so several may share it.
    public static func file(_ fd: Int32, from offset: Int64 = 0) -> StdinSource { StdinSource(fd: fd, offset: offset) }
}

public enum StdStream: String, Sendable, Codable {
    case stdout, stderr
}

public struct OutputChunk: Sendable {
    public var stream: StdStream
    public var bytes: Data
    public init(stream: StdStream, bytes: Data) {
        self.stream = stream
        self.bytes = bytes
    }
}

/// What a finished command left behind.
public struct CommandResult: Sendable {
    public var exitStatus: Int32
    /// Set when the command died from a signal (e.g. "KILL", "TERM").
    public var exitSignal: String?
    /// The end of standard output: at most `ExecOptions.keepOutput` bytes.
    public var stdout: Data
    public var stderr: Data
    /// How many bytes came before the kept ones (0: `stdout` is all of it).
    public var stdoutDroppedBytes: Int64
    public var stderrDroppedBytes: Int64
    public var duration: Double
    public var timedOut: Bool
    /// Set by a dry run: this answer was assumed, not given by a host (why).
    public var assumed: String?

    public init(exitStatus: Int32, exitSignal: String? = nil, stdout: Data = Data(), stderr: Data = Data(),
                duration: Double = 0, timedOut: Bool = false, stdoutDroppedBytes: Int64 = 0, stderrDroppedBytes: Int64 = 0) {
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutDroppedBytes = stdoutDroppedBytes
        self.stderrDroppedBytes = stderrDroppedBytes
        self.duration = duration
        self.timedOut = timedOut
    }

    public var succeeded: Bool { exitStatus == 0 && exitSignal == nil && !timedOut }
    /// True when `stdout` holds only the end of the output.
    public var stdoutTruncated: Bool { stdoutDroppedBytes > 0 }
    public var stderrTruncated: Bool { stderrDroppedBytes > 0 }
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// A short human summary: "exit 0", "exit 3", "killed by TERM", "timed out after 5s".
    public var summary: String {
        if timedOut { return "timed out after \(Format.seconds(duration))" }
        if let exitSignal { return "killed by SIG\(exitSignal)" }
        return "exit \(exitStatus)"
    }
}
