internal import CLibSSH2
import Foundation

extension SSHSession {
    /// Runs one command on a fresh channel and waits for it to finish.
    ///
    /// Both streams are drained in one loop (a command that fills stderr
    /// while we wait on stdout would otherwise deadlock once the window
    /// fills), stdin is fed as the channel accepts it, and the deadline is
    /// enforced by killing the remote process group.
    func exec(_ command: Command, _ options: ExecOptions) throws -> CommandResult {
        let start = monotonicNow()
        let sudo = SudoMarkers(command, options)
        var text: String
        var options = options
        if sudo.prompt == nil && !options.pty {
            // Secret environment values travel on stdin, never in the command line.
            let (rendered, secretLines) = try command.renderedWithSecretsOnStdin()
            text = rendered
            if !secretLines.isEmpty { options.stdin = secretLines + (options.stdin ?? Data()) }
        } else {
            text = try command.rendered(sudoPrompt: sudo.prompt, readyMarker: sudo.ready)
        }
        text = RemoteCommand.reportingPID(text)
        // Ctrl-C from now on stops this command, unless it must finish (cleanup, the switch).
        interruptMark = command.onInterrupt == .stop ? Interrupt.count : nil
        defer { interruptMark = nil }

        operation = "opening a channel"
        deadline = monotonicNow() + 30
        let channel = try openCommandChannel()
        defer { freeChannel(channel) }
        if options.pty {
            try call("requesting a terminal") { libssh2_channel_request_pty_ex(channel, "xterm", 5, nil, 0, 200, 50, 0, 0) }
        }
        operation = "starting a command"
        try call("starting the command") { libssh2_channel_process_startup(channel, "exec", 4, text, UInt32(text.utf8.count)) }

        var run = ExecState(options: options, sudo: sudo)
        run.expectPID = true
        operation = "running a command"
        deadline = options.timeout.map { start + $0 } ?? .infinity
        noteInbound()  // count silence from now, not from the last command
        defer { if let pid = run.pid { tellGuardian("-\(pid)") } }
        var timedOut = false
        var interrupted: SwiftFabError?
        do {
            try pump(channel, &run)
        } catch let error as SwiftFabError where error.kind == .timeout && options.timeout != nil {
            timedOut = true
            killRemote(pid: run.pid)
            deadline = monotonicNow() + 3
            run.limitStreaming(to: 64 << 10)
            try? pump(channel, &run)
        } catch let error as SwiftFabError where error.kind == .interrupted {
            // Stop its whole process group on the host, then collect what it said on the way out.
            interrupted = error
            killRemote(pid: run.pid)
            deadline = monotonicNow() + 3
            run.limitStreaming(to: 64 << 10)
            try? pump(channel, &run)
        }
        if let failure = run.sudoFailure { throw failure }
        run.finish()

        deadline = monotonicNow() + 5
        _ = try? call("closing the channel") { libssh2_channel_close(channel) }
        _ = try? call("closing the channel") { libssh2_channel_wait_closed(channel) }
        if let interrupted { throw interrupted }
        let status = libssh2_channel_get_exit_status(channel)
        return run.result(exitStatus: status, exitSignal: exitSignal(channel), duration: monotonicNow() - start, timedOut: timedOut)
    }

    /// Moves data until the remote side has sent EOF and every byte is read.
    private func pump(_ channel: OpaquePointer, _ run: inout ExecState) throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var progressed = false
            // Feed stdin once sudo (if any) has accepted the password.
            if !run.waitingForSudo && !run.eofSent {
                var input = run.input.fill()
                while input == .ready {
                    let written = run.input.withPending { raw in
                        libssh2_channel_write_ex(channel, 0, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                    }
                    if written == Int(LIBSSH2_ERROR_EAGAIN) { break }
                    if written < 0 { throw failure("writing to the command's stdin") }
                    run.input.consume(written)
                    progressed = true
                    input = run.input.fill()
                }
                if let failure = run.input.failure { throw failure }
                if input == .ended && !run.options.pty {
                    let rc = libssh2_channel_send_eof(channel)
                    if rc == 0 { run.eofSent = true; progressed = true } else if rc != LIBSSH2_ERROR_EAGAIN { run.eofSent = true }
                }
            }
            for stream in [StdStream.stdout, .stderr] {
                // A bounded turn each, so a flood on one stream neither starves the other nor stdin.
                for _ in 0..<16 {
                    let count = buffer.withUnsafeMutableBytes { raw in
                        libssh2_channel_read_ex(channel, stream == .stdout ? 0 : 1, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                    }
                    if count == Int(LIBSSH2_ERROR_EAGAIN) || count == 0 { break }
                    if count < 0 { throw failure("reading the command's output") }
                    progressed = true
                    let knewPID = run.pid != nil
                    if let answer = run.receive(stream, Array(buffer[0..<count])) {
                        try writeAll(channel, answer)
                    }
                    if !knewPID, let pid = run.pid { tellGuardian("+\(pid)") }
                    if run.sudoFailure != nil { return }
                    // Output that never pauses (`yes`) never lets us wait, where this is checked too.
                    try checkDeadlineAndInterrupt()
                }
            }
            if libssh2_channel_eof(channel) != 0 && !progressed { return }
            if progressed {
                noteInbound()  // the peer takes and sends data: it is alive
            } else {
                try waitSocket(orReadable: run.waitingForSudo ? nil : run.input.waitDescriptor)
            }
        }
    }

    private func writeAll(_ channel: OpaquePointer, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                libssh2_channel_write_ex(channel, 0, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), bytes.count - offset)
            }
            if written == Int(LIBSSH2_ERROR_EAGAIN) { try waitSocket(); continue }
            if written < 0 { throw failure("answering sudo") }
            offset += written
        }
    }

    /// Kills a timed-out or interrupted command's process group from a second channel.
    private func killRemote(pid: Int?) {
        guard let pid, pid > 1 else { return }  // `kill -1` would mean every process of the user
        deadline = monotonicNow() + 5
        let script = RemoteCommand.stopGroup(pid)
        guard let channel = try? callPointer("opening a channel", {
            libssh2_channel_open_ex(raw, "session", 7, UInt32(2 << 20), UInt32(32768), nil, 0)
        }) else { return }
        defer { freeChannel(channel) }
        _ = try? call("killing the timed-out command") { libssh2_channel_process_startup(channel, "exec", 4, script, UInt32(script.utf8.count)) }
        _ = try? call("killing the timed-out command") { libssh2_channel_close(channel) }
        _ = try? call("killing the timed-out command") { libssh2_channel_wait_closed(channel) }
    }

    private func exitSignal(_ channel: OpaquePointer) -> String? {
        var name: UnsafeMutablePointer<CChar>?
        var length = 0
        guard libssh2_channel_get_exit_signal(channel, &name, &length, nil, nil, nil, nil) == 0, let name else { return nil }
        defer { libssh2_free(raw, name) }
        return length > 0 ? String(cString: name) : nil
    }

    func freeChannel(_ channel: OpaquePointer) {
        let limit = monotonicNow() + 2
        // A peer that stopped answering will not confirm the close: don't wait for it.
        while libssh2_channel_free(channel) == LIBSSH2_ERROR_EAGAIN && !peerSilent && monotonicNow() < limit {
            Descriptor.wait(fd, read: true, write: false, milliseconds: 50)
        }
    }
}
