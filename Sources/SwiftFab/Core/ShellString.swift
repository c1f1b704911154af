/// Shell text in which the literal parts are syntax and every interpolated
/// value is quoted: `"rm -rf \(path)"` can never remove more than `path`.
///
/// Interpolating a `Secret` quotes its value when run and shows `[secret]`
/// everywhere else (plans, dry-runs, logs, JSON). `\(raw: text)` inserts
/// shell syntax on purpose.
public struct ShellString: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    enum Part: Sendable, Hashable {
        case syntax(String)
        case value(String)
        case secret(Secret)
        case word(Word)
    }

    var parts: [Part]

    init(parts: [Part]) { self.parts = parts }

    public init(stringLiteral value: String) { parts = [.syntax(value)] }

    public init(stringInterpolation: Interpolation) { parts = stringInterpolation.parts }

    /// Shell syntax taken as is.
    public static func raw(_ text: String) -> ShellString { ShellString(parts: [.syntax(text)]) }

    /// One quoted word.
    public static func word(_ text: String) -> ShellString { ShellString(parts: [.value(text)]) }

    /// Quoted words separated by spaces.
    public static func words(_ words: [String]) -> ShellString {
        ShellString(parts: words.enumerated().flatMap { index, word in index == 0 ? [Part.value(word)] : [.syntax(" "), .value(word)] })
    }

    public struct Interpolation: StringInterpolationProtocol, Sendable {
        var parts: [Part] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { parts.append(.syntax(literal)) }
        /// Any value: quoted as one word.
        public mutating func appendInterpolation<T>(_ value: T) { parts.append(.value("\(value)")) }
        public mutating func appendInterpolation(_ secret: Secret) { parts.append(.secret(secret)) }
        /// Several words, each quoted.
        public mutating func appendInterpolation(_ words: [String]) {
            for (index, word) in words.enumerated() {
                if index > 0 { parts.append(.syntax(" ")) }
                parts.append(.value(word))
            }
        }
        /// Shell syntax on purpose: pipes, globs, redirections.
        public mutating func appendInterpolation(raw text: String) { parts.append(.syntax(text)) }
        /// One word made of text and secrets: `\(Word("Bearer \(token)"))`.
        public mutating func appendInterpolation(_ word: Word) { parts.append(.word(word)) }
        /// Another shell string, keeping its own quoting and secrets.
        public mutating func appendInterpolation(_ shell: ShellString) { parts += shell.parts }
    }

    /// The text the shell runs.
    public func rendered() -> String { render(reveal: true) }

    /// The text people see: secrets replaced by `[secret]`.
    public var redacted: String { render(reveal: false) }

    public var description: String { redacted }

    public var secrets: [Secret] {
        parts.flatMap { part -> [Secret] in
            switch part {
            case .secret(let secret): return [secret]
            case .word(let word): return word.secrets
            case .syntax, .value: return []
            }
        }
    }

    func render(reveal: Bool) -> String {
        parts.map { part in
            switch part {
            case .syntax(let text): return text
            case .value(let text): return Shell.quote(text)
            case .secret(let secret): return reveal ? Shell.quote(secret.reveal()) : secret.description
            case .word(let word): return word.render(reveal: reveal)
            }
        }.joined()
    }

    /// The text without shell quoting (for values such as environment
    /// variables, which the caller quotes as a whole).
    func plainText(reveal: Bool) -> String {
        parts.map { part in
            switch part {
            case .syntax(let text), .value(let text): return text
            case .secret(let secret): return reveal ? secret.reveal() : secret.description
            case .word(let word): return word.text(reveal: reveal)
            }
        }.joined()
    }

    public static func + (lhs: ShellString, rhs: ShellString) -> ShellString { ShellString(parts: lhs.parts + rhs.parts) }
}

/// One shell word built from text and secrets, quoted as a whole:
/// `Run("curl -H \(Word("Authorization: Bearer \(Settings["token"])")) \(url)")`.
/// (A plain Swift string would turn the secret into the text `[secret]`.)
public struct Word: Sendable, Hashable, ExpressibleByStringInterpolation {
    enum Part: Sendable, Hashable {
        case text(String)
        case secret(Secret)
    }

    var parts: [Part]

    public init(stringLiteral value: String) { parts = [.text(value)] }
    public init(stringInterpolation: Interpolation) { parts = stringInterpolation.parts }

    public struct Interpolation: StringInterpolationProtocol, Sendable {
        var parts: [Part] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { parts.append(.text(literal)) }
        public mutating func appendInterpolation<T>(_ value: T) { parts.append(.text("\(value)")) }
        public mutating func appendInterpolation(_ secret: Secret) { parts.append(.secret(secret)) }
        public mutating func appendInterpolation(_ value: SettingValue) {
            switch value {
            case .plain(let text): parts.append(.text(text))
            case .secret(let secret): parts.append(.secret(secret))
            }
        }
    }

    var secrets: [Secret] { parts.compactMap { if case .secret(let secret) = $0 { return secret } else { return nil } } }

    func text(reveal: Bool) -> String {
        parts.map { part in
            switch part {
            case .text(let text): return text
            case .secret(let secret): return reveal ? secret.reveal() : secret.description
            }
        }.joined()
    }

    func render(reveal: Bool) -> String { Shell.quote(text(reveal: reveal)) }
}
