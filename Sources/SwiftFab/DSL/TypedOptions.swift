/// Typed handles for a task's options: declared once, they go in the task's
/// `options:` list and read the parsed value back with its type, so a
/// misspelt name or a wrong type is a compile error rather than a silent "".
///
///     let revision = Argument("revision", help: "What to deploy", default: "HEAD")
///     let stage = Flag("stage", help: "Start the release beside the live one")
///     let lockWait = Option("lock-wait", value: "SECONDS", help: "Wait for another deploy", default: 0.0, minimum: 0)
///     Task("deploy", "Deploy a revision", options: [revision, stage, lockWait]) { args in
///         ... args[revision] (String), args[stage] (Bool), args[lockWait] (Double) ...
///     }
///
/// An option without a default reads as an optional: `Option<Int?>("keep", help: ...)`.
public protocol DeclaresTaskOption: Sendable {
    /// What the command line, help and completion see.
    var declaration: TaskOption { get }
}

extension TaskOption: DeclaresTaskOption {
    public var declaration: TaskOption { self }
}

/// A type an option's value is read as: its text already passed the option's check.
public protocol OptionValue: Sendable {
    init?(optionText: String)
    /// The check the command line applies to the text.
    static var optionKind: TaskOption.ValueKind { get }
    /// The value as the command line would give it (nil: none).
    var optionText: String? { get }
}

extension String: OptionValue {
    public init?(optionText: String) { self = optionText }
    public static var optionKind: TaskOption.ValueKind { .text }
    public var optionText: String? { self }
}

extension Int: OptionValue {
    public init?(optionText: String) { self.init(optionText) }
    public static var optionKind: TaskOption.ValueKind { .integer(minimum: nil) }
    public var optionText: String? { String(self) }
}

extension Double: OptionValue {
    public init?(optionText: String) { self.init(optionText) }
    public static var optionKind: TaskOption.ValueKind { .number(minimum: nil) }
    public var optionText: String? { Format.number(self) }
}

extension Optional: OptionValue where Wrapped: OptionValue {
    public init?(optionText: String) {
        guard let value = Wrapped(optionText: optionText) else { return nil }
        self = .some(value)
    }
    public static var optionKind: TaskOption.ValueKind { Wrapped.optionKind }
    public var optionText: String? { self?.optionText ?? nil }
}

/// `--name`: on or off.
public struct Flag: DeclaresTaskOption {
    public let declaration: TaskOption

    public init(_ name: String, short: Character? = nil, help: String) {
        declaration = .flag(name, short: short, help: help)
    }
}

/// `--name VALUE`, read back as `Value`.
public struct Option<Value: OptionValue>: DeclaresTaskOption {
    public let declaration: TaskOption
    let fallback: Value

    /// With a default: reads as `Value` whether given or not.
    public init(_ name: String, short: Character? = nil, value placeholder: String = "VALUE", help: String, default fallback: Value) {
        declaration = .option(name, short: short, value: placeholder, help: help, default: fallback.optionText, kind: Value.optionKind)
        self.fallback = fallback
    }

    /// Without a default: reads as nil when not given.
    public init<Wrapped: OptionValue>(_ name: String, short: Character? = nil, value placeholder: String = "VALUE", help: String,
                                      implicit: String? = nil) where Value == Wrapped? {
        declaration = .option(name, short: short, value: placeholder, help: help, kind: Wrapped.optionKind, implicit: implicit)
        fallback = nil
    }

    /// A path on this machine (completed as a file name; an empty word is refused).
    public static func path(_ name: String, short: Character? = nil, value placeholder: String = "PATH", help: String,
                            implicit: String? = nil) -> Option<String?> {
        Option<String?>(declaration: .option(name, short: short, value: placeholder, help: help, kind: .path, implicit: implicit), fallback: nil)
    }

    private init(declaration: TaskOption, fallback: Value) {
        self.declaration = declaration
        self.fallback = fallback
    }
}

extension Option where Value == Int {
    /// A whole number of at least `minimum`.
    public init(_ name: String, short: Character? = nil, value placeholder: String = "N", help: String, default fallback: Int, minimum: Int) {
        self.init(declaration: .option(name, short: short, value: placeholder, help: help, default: String(fallback), kind: .integer(minimum: minimum)),
                  fallback: fallback)
    }
}

extension Option where Value == Int? {
    /// A whole number of at least `minimum`; when not given, `fallback` (nil: none).
    public init(_ name: String, short: Character? = nil, value placeholder: String = "N", help: String, default fallback: Int? = nil, minimum: Int) {
        self.init(declaration: .option(name, short: short, value: placeholder, help: help, default: fallback.map(String.init),
                                       kind: .integer(minimum: minimum)), fallback: fallback)
    }
}

extension Option where Value == Double {
    /// A number of at least `minimum`.
    public init(_ name: String, short: Character? = nil, value placeholder: String = "N", help: String, default fallback: Double, minimum: Double) {
        self.init(declaration: .option(name, short: short, value: placeholder, help: help, default: Format.number(fallback), kind: .number(minimum: minimum)),
                  fallback: fallback)
    }
}

/// A word in order after the task's name, read back as `Value`.
public struct Argument<Value: OptionValue>: DeclaresTaskOption {
    public let declaration: TaskOption
    let fallback: Value

    /// With a default: optional on the command line, always a value here.
    public init(_ name: String, help: String, default fallback: Value, choices: [String]? = nil) {
        declaration = .argument(name, help: help, default: fallback.optionText, choices: choices)
        self.fallback = fallback
    }

    /// Required on the command line.
    public init(_ name: String, help: String, choices: [String]? = nil) where Value == String {
        declaration = .argument(name, help: help, choices: choices)
        fallback = ""
    }

    /// Optional on the command line, nil when not given.
    public init<Wrapped: OptionValue>(_ name: String, help: String, choices: [String]? = nil) where Value == Wrapped? {
        declaration = .argument(name, help: help, optional: true, choices: choices)
        fallback = nil
    }
}

extension TaskArguments {
    public subscript(_ flag: Flag) -> Bool { self.flag(flag.declaration.name) }

    public subscript<Value>(_ option: Option<Value>) -> Value { read(option.declaration.name, fallback: option.fallback) }

    public subscript<Value>(_ argument: Argument<Value>) -> Value { read(argument.declaration.name, fallback: argument.fallback) }

    /// Whether the option or argument was given (not just defaulted).
    public func given(_ option: some DeclaresTaskOption) -> Bool { given(option.declaration.name) }

    /// The given text as `Value` (the command line checked it against the
    /// option's kind), else the fallback.
    private func read<Value: OptionValue>(_ name: String, fallback: Value) -> Value {
        let given = names.firstIndex(of: name).flatMap { $0 < values.count ? values[$0] : nil } ?? options[name]
        return given.flatMap { Value(optionText: $0) } ?? fallback
    }
}
