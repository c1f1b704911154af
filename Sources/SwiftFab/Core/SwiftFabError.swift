/// Every failure swiftfab reports: what happened, on which host, and what to do.
public struct SwiftFabError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case invalidInput, connection, hostKey, authentication, command, transfer, timeout, config, local
        /// Ctrl-C or SIGTERM stopped it (see `Interrupt`).
        case interrupted
    }

    public var kind: Kind
    public var host: String?
    public var message: String
    public var hint: String?

    public init(_ kind: Kind, host: String? = nil, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.host = host
        self.message = message
        self.hint = hint
    }

    public static func invalidInput(_ message: String, hint: String? = nil) -> SwiftFabError {
        SwiftFabError(.invalidInput, message, hint: hint)
    }

    public func on(host: String) -> SwiftFabError {
        var copy = self
        if copy.host == nil { copy.host = host }
        return copy
    }

    /// One line (plus a hint line): "web1: cannot connect ...\n  hint: ...".
    public var description: String {
        var text = (host.map { "\($0): " } ?? "") + message
        if let hint { text += "\n  hint: " + hint }
        return text
    }
}
