/// A value that must never be printed: passwords, tokens, passphrases.
/// Its descriptions are redacted, so string interpolation, `print`, logs
/// and JSON all show `[secret]`; only `reveal()` yields the value.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String
    public init(_ value: String) { self.value = value }
    public func reveal() -> String { value }
    public var description: String { "[secret]" }
    public var debugDescription: String { "[secret]" }

    /// Removes every occurrence of the secrets from `text`.
    public static func redact(_ text: String, _ secrets: [Secret]) -> String {
        secrets.reduce(text) { text, secret in
            secret.value.isEmpty ? text : text.replacingOccurrences(of: secret.value, with: "[secret]")
        }
    }
}
