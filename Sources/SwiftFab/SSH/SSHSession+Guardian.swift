internal import CLibSSH2
import Foundation

extension SSHSession {
    /// Starts the connection's guardian (`RemoteCommand.guardian`) in a
    /// channel of its own. Best effort: a server that allows too few
    /// channels per connection runs commands without it.
    func startGuardian() {
        guard guardian == nil else { return }
        operation = "starting the guardian"
        deadline = monotonicNow() + 10
        guard let channel = try? callPointer("opening the guardian's channel", {
            libssh2_channel_open_ex(raw, "session", 7, UInt32(64 << 10), UInt32(32768), nil, 0)
        }) else { return }
        let script = "exec 2>/dev/null\n" + RemoteCommand.guardian
        guard (try? call("starting the guardian", { libssh2_channel_process_startup(channel, "exec", 4, script, UInt32(script.utf8.count)) })) != nil else {
            freeChannel(channel)
            return
        }
        guardian = channel
    }

    /// Tells the guardian a command started (`+PID`) or ended (`-PID`).
    /// A few bytes, no round trip; a guardian that is gone is forgotten.
    func tellGuardian(_ line: String) {
        guard let channel = guardian else { return }
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        let limit = monotonicNow() + 2
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                libssh2_channel_write_ex(channel, 0, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), bytes.count - offset)
            }
            if written == Int(LIBSSH2_ERROR_EAGAIN) && monotonicNow() < limit {
                Descriptor.wait(fd, read: true, write: true, milliseconds: 20)
                continue
            }
            if written <= 0 { guardian = nil; return }
            offset += written
        }
    }

    /// A channel for a command. A server that refuses one while the guardian
    /// holds a channel (MaxSessions) gets that channel back: the command
    /// matters more than its guardian.
    func openCommandChannel() throws -> OpaquePointer {
        do {
            return try callPointer("opening a channel") {
                libssh2_channel_open_ex(raw, "session", 7, UInt32(4 << 20), UInt32(32768), nil, 0)
            }
        } catch let error as SwiftFabError where guardian != nil && lastError.code == LIBSSH2_ERROR_CHANNEL_FAILURE {
            _ = error
            freeChannel(guardian!)
            guardian = nil
            deadline = monotonicNow() + 30
            return try callPointer("opening a channel") {
                libssh2_channel_open_ex(raw, "session", 7, UInt32(4 << 20), UInt32(32768), nil, 0)
            }
        }
    }
}
