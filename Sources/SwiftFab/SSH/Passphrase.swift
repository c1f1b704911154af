import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Asks for a passphrase on the controlling terminal with echo turned off.
public enum TerminalPrompt {
    /// nil when there is no terminal to ask on (CI, cron, pipes).
    static func readSecret(prompt: String) -> Secret? {
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else { return nil }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(tty, TCSAFLUSH, &silent)
        defer {
            tcsetattr(tty, TCSAFLUSH, &saved)
            _ = write(tty, "\n", 1)
        }
        // Ctrl-C here exits at once, with echo back on (the terminal would stay mute otherwise).
        let original = saved
        let line = Interrupt.prompting(restore: {
            var restored = original
            tcsetattr(tty, TCSANOW, &restored)
            _ = write(tty, "\n", 1)
        }) { () -> [UInt8] in
            _ = prompt.withCString { write(tty, $0, strlen($0)) }
            var line: [UInt8] = []
            var byte: UInt8 = 0
            while read(tty, &byte, 1) == 1, byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") {
                line.append(byte)
            }
            return line
        }
        return Secret(String(decoding: line, as: UTF8.self))
    }

    /// Asks a yes/no question on the terminal; false without a terminal.
    public static func confirm(_ question: String) -> Bool {
        guard isatty(STDIN_FILENO) != 0 else { return false }
        StandardStreams.write(question + " [y/N] ", to: .stderr)
        guard let answer = Interrupt.prompting({ readLine() }) else { return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }
}
