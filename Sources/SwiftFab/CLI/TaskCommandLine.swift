/// `swiftfab [GLOBAL...] TASK [TASK OPTIONS AND ARGUMENTS...]`, parsed whole
/// before anything is planned or connected. Global options are recognised
/// before and after the task's name; after it, the task's own options come
/// first (so `logs -f` follows the logs). Anything the program does not know
/// is an error with the nearest names and the task's usage: a misspelled
/// `--dry-run` never runs the real thing.
public struct TaskCommandLine: Sendable {
    public var globals = GlobalOptions()
    public var task: TaskDefinition?
    /// The task's positional arguments, in order.
    public var arguments: [String] = []
    /// The task's options given: name -> value ("" for a flag).
    public var options: [String: String] = [:]

    /// Commands every Deployfile answers, parsed like its tasks.
    static let builtins = [DeployfileCheck.command, DeployfileHostTrust.command]

    public static func parse(_ words: [String], deployfile: Deployfile) throws(CommandLineError) -> TaskCommandLine {
        var line = TaskCommandLine()
        var index = 0
        var onlyArguments = false
        while index < words.count {
            let word = words[index]
            index += 1
            // `-3` is a positional (`rollback -3`) for a task that takes one: no option is a number.
            let negativeNumber = line.task?.arguments.isEmpty == false && word.count > 1 && word.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
            if onlyArguments || word == "-" || !word.hasPrefix("-") || negativeNumber {
                if line.task == nil && !onlyArguments {
                    // `check` and `trust` are swiftfab's own (no task may take their names), with the same global options as a task.
                    guard let task = builtins.first(where: { $0.name == word }) ?? deployfile.task(named: word) else {
                        throw unknownTask(word, deployfile)
                    }
                    line.task = task
                } else {
                    line.arguments.append(word)
                }
                continue
            }
            if word == "--" {
                guard line.task != nil else { throw CommandLineError("`--` comes after the task's name: it starts the task's own arguments") }
                onlyArguments = true
                continue
            }
            let (name, attached) = split(word)
            if let task = line.task, let option = task.option(for: name) {
                try line.take(option, attached: attached, words: words, index: &index)
            } else if let spec = GlobalOptions.spec(for: name) {
                if let placeholder = spec.value {
                    let value = try value(for: name, placeholder: placeholder, attached: attached, words: words, index: &index)
                    if value.isBlank { throw CommandLineError("\(name) needs \(placeholder), not an empty word", hint: usage(line.task)) }
                    try spec.apply(&line.globals, value)
                } else if attached != nil {
                    throw CommandLineError("\(name) takes no value", hint: usage(line.task))
                } else {
                    try spec.apply(&line.globals, "")
                }
            } else {
                throw unknownOption(name, task: line.task)
            }
        }
        try line.checkArguments()
        return line
    }

    /// `--name=value` -> ("--name", "value").
    static func split(_ word: String) -> (String, String?) {
        guard word.hasPrefix("--"), let equals = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<equals]), String(word[word.index(after: equals)...]))
    }

    static func value(for name: String, placeholder: String, attached: String?, words: [String], index: inout Int) throws(CommandLineError) -> String {
        if let attached { return attached }
        guard index < words.count, !words[index].hasPrefix("-") || words[index] == "-" else {
            throw CommandLineError("\(name) needs a value (\(placeholder))",
                                   hint: index < words.count ? "a value that starts with - goes after =: \(name)=\(words[index])" : nil)
        }
        index += 1
        return words[index - 1]
    }

    private mutating func take(_ option: TaskOption, attached: String?, words: [String], index: inout Int) throws(CommandLineError) {
        let name = "--" + option.name
        switch option.kind {
        case .flag:
            if attached != nil { throw CommandLineError("\(name) is a flag: it takes no value", hint: Self.usage(task)) }
            options[option.name] = ""
        case .value(_, let placeholder, let implicit):
            var value: String
            // `--download` alone, or followed by another option: the implicit value.
            if let implicit, attached == nil, index >= words.count || words[index].hasPrefix("-") {
                value = implicit
            } else {
                value = try Self.value(for: name, placeholder: placeholder, attached: attached, words: words, index: &index)
            }
            if let problem = option.problem(with: value) { throw CommandLineError(problem, hint: Self.usage(task)) }
            options[option.name] = value
        case .argument:
            throw CommandLineError("\(option.name) is an argument, not an option", hint: Self.usage(task))
        }
    }

    private func checkArguments() throws(CommandLineError) {
        guard let task else { return }
        let declared = task.options.filter(\.isArgument)
        let required = declared.filter { $0.kind == .argument(required: true) }
        if arguments.count > declared.count {
            let extra = arguments[declared.count...].map { Shell.quote($0) }.joined(separator: " ")
            let what = declared.isEmpty ? "takes no arguments" : "takes at most \(declared.count) argument\(declared.count == 1 ? "" : "s")"
            throw CommandLineError("\(task.name) \(what), but was given \(extra)", hint: Self.usage(task))
        }
        for (option, value) in zip(declared, arguments) {
            if let problem = option.problem(with: value) { throw CommandLineError(problem, hint: Self.usage(task)) }
        }
        if arguments.count < required.count, !globals.help {
            let missing = required[arguments.count...].map { $0.name.uppercased() }.joined(separator: " ")
            throw CommandLineError("\(task.name) needs \(missing)", hint: Self.usage(task))
        }
    }

    /// What the task's body gets: the arguments, the options and the defaults.
    public func taskArguments(run: RunContext) -> TaskArguments {
        let declared = task?.options ?? []
        var defaults: [String: String] = [:]
        for option in declared { if let value = option.defaultValue { defaults[option.name] = value } }
        return TaskArguments(values: arguments, names: declared.filter(\.isArgument).map(\.name), options: options,
                             defaults: defaults, run: run)
    }

    // MARK: - Messages

    /// `usage: swiftfab deploy [REVISION] [--stage] ...`, and where help is.
    public static func usage(_ task: TaskDefinition?) -> String {
        guard let task else { return "usage: swiftfab [OPTIONS] TASK [TASK OPTIONS]; swiftfab --list shows the tasks" }
        let words = [task.name] + task.options.filter(\.isArgument).map(\.usage) + task.options.filter { !$0.isArgument }.map { "[\($0.usage)]" }
        return "usage: swiftfab " + words.joined(separator: " ") + "  (swiftfab \(task.name) --help says more)"
    }

    static func unknownTask(_ name: String, _ deployfile: Deployfile) -> CommandLineError {
        let near = deployfile.names(near: name)
        return CommandLineError("unknown task \(Shell.quote(name))",
                                hint: near.isEmpty ? "swiftfab --list shows the tasks" : "did you mean: \(near.prefix(3).joined(separator: ", "))? (swiftfab --list shows all tasks)")
    }

    static func unknownOption(_ word: String, task: TaskDefinition?) -> CommandLineError {
        var known = GlobalOptions.specs.filter { !$0.hidden }.map { "--" + $0.long }
        known += task?.options.filter { !$0.isArgument }.map { "--" + $0.name } ?? []
        let bare = String(word.drop { $0 == "-" })
        let near = EditDistance.near(bare, in: known.map { String($0.dropFirst(2)) }).map { "--" + $0 }
        let whose = task.map { "\($0.name) has no option \(word), and it is not a global option" } ?? "unknown option \(word)"
        let suggestion = near.isEmpty ? "" : "did you mean \(near.prefix(3).joined(separator: " or "))? "
        return CommandLineError(whose + "; nothing was run", hint: suggestion + usage(task))
    }
}

extension TaskDefinition {
    /// The declared option a word names: `--stage`, or its short form `-s`.
    func option(for word: String) -> TaskOption? {
        if word.hasPrefix("--") {
            let name = word.dropFirst(2)
            return options.first { !$0.isArgument && $0.name == name }
        }
        guard word.count == 2, word.hasPrefix("-") else { return nil }
        return options.first { !$0.isArgument && $0.short == word.last }
    }
}
