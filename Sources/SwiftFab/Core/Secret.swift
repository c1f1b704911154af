/// A value that must never be printed: passwords, tokens, passphrases.
/// Its descriptions are redacted, so string interpolation, `print`, logs
/// and JSON all show `[secret]`; only `reveal()` yields the value.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String
    /// How it is shown; a secret that stands in for one not set says so.
    private let label: String
    public init(_ value: String) {
        self.value = value
        label = "[secret]"
    }

    /// A stand-in for a secret whose variable is not set (a dry run shows it; nothing runs with it).
    public init(notSet variable: String) {
        value = ""
        label = "[secret \(variable): not set]"
    }

    public func reveal() -> String { value }
    public var description: String { label }
    public var debugDescription: String { label }

    /// Removes every occurrence of the secrets from `text` (see `Redactor`:
    /// whole, and line by line for a secret of several lines).
    public static func redact(_ text: String, _ secrets: [Secret]) -> String {
        Redactor(secrets).redact(text)
    }
}
