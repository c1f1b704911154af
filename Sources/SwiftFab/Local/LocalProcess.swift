import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One child process of `/bin/sh -c`, driven to completion.
enum LocalProcess {
    static func run(_ command: Command, _ options: ExecOptions) throws -> CommandResult {
        let start = monotonicNow()
        let sudo = SudoMarkers(command, options)
        let text = try command.rendered(sudoPrompt: sudo.prompt, readyMarker: sudo.ready)

        var stdinPipe: [Int32] = [0, 0], stdoutPipe: [Int32] = [0, 0], stderrPipe: [Int32] = [0, 0]
        guard closeOnExecPipe(&stdinPipe), closeOnExecPipe(&stdoutPipe), closeOnExecPipe(&stderrPipe) else {
            throw SwiftFabError(.local, "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        let spawned = ShellSpawn.start(text, stdin: stdinPipe[0], stdout: stdoutPipe[1], stderr: stderrPipe[1])
        close(stdinPipe[0]); close(stdoutPipe[1]); close(stderrPipe[1])
        let pid: pid_t
        switch spawned {
        case .success(let started): pid = started
        case .failure(let error):
            [stdinPipe[1], stdoutPipe[0], stderrPipe[0]].forEach { close($0) }
            throw error
        }
        for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { Descriptor.setNonBlocking(fd) }
        signal(SIGPIPE, SIG_IGN)

        var state = ExecState(options: options, sudo: sudo)
        let deadline = options.timeout.map { start + $0 }
        var timedOut = false
        var open = [stdoutPipe[0], stderrPipe[0]]
        var input: Int32? = stdinPipe[1]
        var pendingAnswer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        // Ctrl-C stops a command that runs when it comes (its own process group
        // does not get the terminal's signal), unless it is cleanup.
        let interrupts = command.onInterrupt == .stop ? Interrupt.count : Int.max
        var interrupted = false

        while !open.isEmpty {
            let expired = deadline.map { !timedOut && monotonicNow() >= $0 } ?? false
            let stopped = !interrupted && Interrupt.count > interrupts
            if expired || stopped {
                if expired { timedOut = true } else { interrupted = true }
                kill(-pid, SIGTERM)
                let group = pid
                DispatchQueue.global().asyncAfter(deadline: .now() + 2) { kill(-group, SIGKILL) }
            }
            // Write the sudo answer first, then stdin once sudo let us through.
            var feed = StdinFeed.State.waiting
            if let fd = input {
                if !pendingAnswer.isEmpty {
                    let written = write(fd, pendingAnswer, pendingAnswer.count)
                    if written > 0 { pendingAnswer.removeFirst(written) }
                } else if !state.waitingForSudo {
                    feed = state.input.fill()
                    while feed == .ready {
                        let written = state.input.withPending { write(fd, $0.baseAddress, $0.count) }
                        guard written > 0 else {
                            if errno != EAGAIN { state.input.abandon(); feed = .ended }  // it closed its stdin
                            break
                        }
                        state.input.consume(written)
                        feed = state.input.fill()
                    }
                    // Unreadable input: kill the command rather than let it take a part for the whole.
                    if state.input.failure != nil { kill(-pid, SIGKILL) }
                    if feed == .ended { close(fd); input = nil }
                }
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let wantsWrite = input != nil && (!pendingAnswer.isEmpty || (!state.waitingForSudo && feed == .ready))
            if wantsWrite, let input { fds.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
            if input != nil, !state.waitingForSudo, let source = state.input.waitDescriptor {
                fds.append(pollfd(fd: source, events: Int16(POLLIN), revents: 0))
            }
            let wait = deadline.map { max(0, Int32(($0 - monotonicNow()) * 1000)) + 1 } ?? Int32.max
            _ = poll(&fds, nfds_t(fds.count), timedOut || interrupted ? 200 : min(wait, Int32(Descriptor.interruptPoll * 1000)))
            for fd in open {
                let count = read(fd, &buffer, buffer.count)
                if count > 0 {
                    if let answer = state.receive(fd == stdoutPipe[0] ? .stdout : .stderr, Array(buffer[0..<count])) {
                        pendingAnswer += answer
                    }
                } else if count == 0 || errno != EAGAIN {
                    close(fd)
                    open.removeAll { $0 == fd }
                }
            }
            if state.sudoFailure != nil { kill(-pid, SIGKILL) }
        }
        if let input { close(input) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if let failure = state.sudoFailure ?? state.input.failure { throw failure }
        if interrupted { throw Interrupt.error("`\(command.display)` was stopped here, with its process group") }
        state.finish()
        let signalled = status & 0x7f != 0
        return state.result(exitStatus: signalled ? -1 : (status >> 8) & 0xff, exitSignal: signalled ? signalName(status & 0x7f) : nil,
                            duration: monotonicNow() - start, timedOut: timedOut)
    }

    /// Close-on-exec (dup2 clears it on the child's 0, 1, 2): a command started
    /// meanwhile must not inherit these ends, or this one's stdin never sees EOF.
    private static func closeOnExecPipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// SSH names signals without the SIG prefix; do the same locally.
    static func signalName(_ number: Int32) -> String {
        let names: [Int32: String] = [SIGHUP: "HUP", SIGINT: "INT", SIGQUIT: "QUIT", SIGKILL: "KILL", SIGTERM: "TERM",
                                      SIGSEGV: "SEGV", SIGABRT: "ABRT", SIGPIPE: "PIPE", SIGALRM: "ALRM", SIGUSR1: "USR1", SIGUSR2: "USR2"]
        return names[number] ?? "\(number)"
    }
}
