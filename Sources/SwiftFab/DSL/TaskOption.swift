/// One thing a task accepts on the command line, declared as a value so the
/// whole command line is checked before anything connects, and help and
/// shell completion come from the same declaration.
///
///     Task("deploy", "Deploy a revision", options: [
///         .argument("revision", help: "What to deploy", default: "HEAD"),
///         .flag("stage", help: "Start the release beside the live one; do not switch"),
///         .option("lock-wait", value: "SECONDS", help: "Wait this long for another deploy", default: "0", kind: .number),
///     ]) { args in ... args.flag("stage") ... args["revision"] ... }
public struct TaskOption: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `--name`: on or off.
        case flag
        /// `--name VALUE` (or `--name=VALUE`). With `implicit`, the value may be
        /// left out (`--download` means `--download .`).
        case value(ValueKind, placeholder: String, implicit: String?)
        /// A word in order after the task's name.
        case argument(required: Bool)
    }

    /// What a value must look like; a wrong one stops the run before it starts.
    public enum ValueKind: Sendable, Equatable {
        case text
        /// A whole number, at least `minimum` when given.
        case integer(minimum: Int?)
        /// A number (seconds, say), at least `minimum` when given.
        case number(minimum: Double?)
        case choice([String])
        /// A path on this machine (completed as a file name).
        case path
    }

    public var name: String
    public var short: Character?
    public var help: String
    public var kind: Kind
    /// Used when the option or argument is not given.
    public var defaultValue: String?
    /// The only words a positional argument may be (also what completion offers).
    public var choices: [String]?

    public init(name: String, short: Character? = nil, help: String, kind: Kind, defaultValue: String? = nil) {
        self.name = name
        self.short = short
        self.help = help
        self.kind = kind
        self.defaultValue = defaultValue
    }

    public var isArgument: Bool { if case .argument = kind { return true } else { return false } }

    /// How it is written in usage lines: `--stage`, `--lock-wait SECONDS`, `REVISION`, `[REVISION]`.
    public var usage: String {
        switch kind {
        case .flag: return "--" + name
        case .value(_, let placeholder, let implicit): return "--" + name + (implicit == nil ? " " + placeholder : " [" + placeholder + "]")
        case .argument(let required): return required ? name.uppercased() : "[" + name.uppercased() + "]"
        }
    }

    /// The value's problem, if it is not what the option takes.
    func problem(with value: String) -> String? {
        // An argument or a path given as "" (an unset shell variable, a stray quote) names nothing.
        if value.isBlank {
            if isArgument { return "\(name.uppercased()) is empty" + (help.isEmpty ? "" : ": give " + help.prefix(1).lowercased() + help.dropFirst()) }
            if case .value(.path, let placeholder, _) = kind { return "--\(name) needs a \(placeholder), not an empty word" }
        }
        if let choices, !choices.contains(value) {
            return "\(isArgument ? name.uppercased() : "--" + name) is one of \(choices.joined(separator: ", ")), not \(Shell.quote(value))"
        }
        guard case .value(let kind, let placeholder, _) = self.kind else { return nil }
        switch kind {
        case .text, .path: return nil
        case .integer(let minimum):
            guard let number = Int(value) else { return "--\(name) takes a whole number (\(placeholder)), not \(Shell.quote(value))" }
            if let minimum, number < minimum { return "--\(name) takes \(minimum) or more, not \(number)" }
        case .number(let minimum):
            guard let number = Double(value), number.isFinite else { return "--\(name) takes a number (\(placeholder)), not \(Shell.quote(value))" }
            if let minimum, number < minimum { return "--\(name) takes \(Format.number(minimum)) or more, not \(value)" }
        case .choice(let choices):
            if !choices.contains(value) { return "--\(name) takes one of \(choices.joined(separator: ", ")), not \(Shell.quote(value))" }
        }
        return nil
    }
}

/// The declarations by name, also where a list takes typed handles (`options: [.flag(...), stage]`).
extension DeclaresTaskOption where Self == TaskOption {
    public static func flag(_ name: String, short: Character? = nil, help: String) -> TaskOption {
        TaskOption(name: name, short: short, help: help, kind: .flag)
    }

    public static func option(_ name: String, short: Character? = nil, value placeholder: String = "VALUE", help: String,
                              default defaultValue: String? = nil, kind: TaskOption.ValueKind = .text, implicit: String? = nil) -> TaskOption {
        TaskOption(name: name, short: short, help: help, kind: .value(kind, placeholder: placeholder, implicit: implicit), defaultValue: defaultValue)
    }

    /// A positional argument: required unless it has a default or `optional` says so.
    public static func argument(_ name: String, help: String, default defaultValue: String? = nil, optional: Bool = false,
                                choices: [String]? = nil) -> TaskOption {
        var option = TaskOption(name: name, help: help, kind: .argument(required: defaultValue == nil && !optional), defaultValue: defaultValue)
        option.choices = choices
        return option
    }
}
