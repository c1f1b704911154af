import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An ssh_config `ProxyCommand` carrying one connection, as OpenSSH runs it:
/// `/bin/sh -c "exec COMMAND"` with its stdin and stdout on one end of a
/// socket pair, the SSH session on the other. It runs in a process group of
/// its own, so a Ctrl-C at the terminal does not cut the connection the
/// clean-up still needs; it is hung up (SIGHUP, as OpenSSH does) when the
/// session goes. A thread of its own keeps the tail of its stderr, for the
/// error when the connection fails, and reaps it.
final class ProxyCommandProcess: @unchecked Sendable {
    let command: String
    private let pid: pid_t
    private let state = NSCondition()
    private var ended: String?
    private var stderrTail: [UInt8] = []

    /// Starts `command`; returns the socket the session should use.
    static func start(_ command: String, label: String) throws -> (fd: Int32, process: ProxyCommandProcess) {
        var pair: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Socket.stream, 0, &pair) == 0 else {
            throw SwiftFabError(.local, host: label, "cannot create a socket pair for ProxyCommand: \(String(cString: strerror(errno)))")
        }
        guard pipe(&errPipe) == 0 else {
            pair.forEach { close($0) }
            throw SwiftFabError(.local, host: label, "cannot create a pipe for ProxyCommand: \(String(cString: strerror(errno)))")
        }
        // Only this proxy gets its ends (dup2 onto 0, 1 and 2 clears the flag for it).
        Descriptor.setCloseOnExec(pair[0], pair[1], errPipe[0], errPipe[1])
        let spawned = ShellSpawn.start("exec " + command, stdin: pair[1], stdout: pair[1], stderr: errPipe[1])
        close(pair[1])
        close(errPipe[1])
        let pid: pid_t
        switch spawned {
        case .success(let started): pid = started
        case .failure(let error):
            close(pair[0])
            close(errPipe[0])
            throw SwiftFabError(.local, host: label, "cannot start ProxyCommand: \(error.message)")
        }
        Descriptor.setNonBlocking(pair[0])
        let process = ProxyCommandProcess(command: command, pid: pid)
        Self.running.add(pid)
        let stderr = errPipe[0]
        let thread = Thread { process.watch(stderr: stderr) }
        thread.name = "swiftfab-proxy-\(label)"
        thread.stackSize = 256 << 10
        thread.start()
        return (pair[0], process)
    }

    private init(command: String, pid: pid_t) {
        self.command = command
        self.pid = pid
    }

    /// Keeps the last 2 KiB of stderr until it closes, then waits for the
    /// process to end. It is reaped under the lock, so `hangUp` never signals
    /// a process id that was reused.
    private func watch(stderr fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            state.lock()
            stderrTail.append(contentsOf: buffer[0..<count])
            if stderrTail.count > 2048 { stderrTail.removeFirst(stderrTail.count - 2048) }
            state.unlock()
        }
        close(fd)
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        state.lock()
        var status: Int32 = 0
        Self.running.remove(pid)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        ended = Self.describe(status)
        state.broadcast()
        state.unlock()
    }

    /// Ends it, and whatever it started, if it still runs (the session closed its end already).
    func hangUp() {
        state.lock()
        if ended == nil { kill(-pid, SIGHUP) }
        state.unlock()
    }

    /// The proxies not reaped yet: hung up when this process exits, however
    /// it exits (a second Ctrl-C skips the sessions' clean-up), as OpenSSH
    /// does with its own, so no proxy keeps a connection open after us.
    static let running = Running()

    final class Running: @unchecked Sendable {
        private let lock = NSLock()
        private var pids: Set<pid_t> = []
        private static let exitHook: Void = { _ = atexit { ProxyCommandProcess.running.hangUpAll() } }()

        func add(_ pid: pid_t) {
            _ = Self.exitHook
            lock.withLock { _ = pids.insert(pid) }
        }

        /// Called under the process's own lock, before it is reaped: its id is still its own.
        func remove(_ pid: pid_t) { lock.withLock { _ = pids.remove(pid) } }

        func hangUpAll() { lock.withLock { for pid in pids { kill(-pid, SIGHUP) } } }
    }

    /// How it ended and what it said, waiting up to `seconds` for it to end
    /// (a proxy that failed exits just after the connection broke).
    func report(waiting seconds: Double) -> String {
        state.lock()
        defer { state.unlock() }
        let limit = Date().addingTimeInterval(seconds)
        while ended == nil && state.wait(until: limit) {}
        let said = String(decoding: stderrTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = said.split(separator: "\n").suffix(5).joined(separator: " | ")
        return "ProxyCommand `\(command)` " + (ended ?? "still runs") + (lines.isEmpty ? "" : ", saying: " + lines)
    }

    private static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "was stopped by signal \(signal)"
    }
}
