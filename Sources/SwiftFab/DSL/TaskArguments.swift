import Foundation

/// What the command line gave a task, already checked against its declared
/// options, and the run it is planned for: `swiftfab restore NAME --yes`.
public struct TaskArguments: Sendable {
    /// The positional values, in order.
    public let values: [String]
    /// The positional arguments' names, in order.
    public let names: [String]
    /// Options given: name -> value ("" for a flag).
    public let options: [String: String]
    /// Defaults of the declared options and arguments.
    public let defaults: [String: String]
    /// The run this plan is for.
    public let run: RunContext

    public init(values: [String] = [], names: [String] = [], options: [String: String] = [:], defaults: [String: String] = [:],
                run: RunContext = RunContext(deployfileDirectory: FileManager.default.currentDirectoryPath)) {
        self.values = values
        self.names = names
        self.options = options
        self.defaults = defaults
        self.run = run
    }

    public subscript(_ index: Int) -> String { index < values.count ? values[index] : "" }

    /// A positional argument or an option's value, else its default, else "".
    public subscript(_ name: String) -> String { value(name) ?? "" }

    /// A positional argument or an option's value, else its default; nil when neither.
    public func value(_ name: String) -> String? {
        if let index = names.firstIndex(of: name), index < values.count { return values[index] }
        return options[name] ?? defaults[name]
    }

    /// True when the flag (or option) was given.
    public func flag(_ name: String) -> Bool { options[name] != nil }

    /// Whether the option or argument was given (not just defaulted).
    public func given(_ name: String) -> Bool {
        options[name] != nil || names.firstIndex(of: name).map { $0 < values.count } == true
    }

    public func integer(_ name: String) -> Int? { value(name).flatMap { Int($0) } }
    public func number(_ name: String) -> Double? { value(name).flatMap { Double($0) } }

    public var count: Int { values.count }
}
