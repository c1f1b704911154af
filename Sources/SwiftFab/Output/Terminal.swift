import Foundation

/// Facts about where output goes: colour only on a terminal, never with NO_COLOR.
public enum Terminal {
    public static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) != 0 }
    public static var stderrIsTTY: Bool { isatty(STDERR_FILENO) != 0 }

    public static func colorEnabled(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        return stdoutIsTTY && environment["TERM"] != "dumb"
    }
}

/// ANSI colours, applied only when the caller's `Style` says so.
public struct Style: Sendable {
    public let enabled: Bool
    public init(enabled: Bool) { self.enabled = enabled }

    public static let plain = Style(enabled: false)

    public enum Color: Int, Sendable, CaseIterable {
        case red = 31, green = 32, yellow = 33, blue = 34, magenta = 35, cyan = 36
        case brightBlue = 94, brightMagenta = 95, brightCyan = 96
    }

    public func paint(_ text: String, _ color: Color, bold: Bool = false) -> String {
        guard enabled else { return text }
        return "\u{1B}[\(bold ? "1;" : "")\(color.rawValue)m\(text)\u{1B}[0m"
    }
}
