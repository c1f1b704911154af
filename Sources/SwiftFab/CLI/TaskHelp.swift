import Foundation

/// `swiftfab TASK --help`, `swiftfab --list` (and `--list --json`): all from
/// the tasks' own declarations.
public enum TaskHelp {
    /// One task: usage, description, arguments and options, where it runs, its hooks.
    public static func text(for task: TaskDefinition, in deployfile: Deployfile) -> String {
        var lines = [TaskCommandLine.usage(task).replacingOccurrences(of: "  (swiftfab \(task.name) --help says more)", with: ""), ""]
        lines.append(task.description)
        let arguments = task.options.filter(\.isArgument), options = task.options.filter { !$0.isArgument }
        if !arguments.isEmpty {
            lines += ["", "Arguments:"] + table(arguments.map { ($0.name.uppercased(), describe($0)) })
        }
        if !options.isEmpty {
            lines += ["", "Options:"] + table(options.map { ((($0.short.map { "-\($0), " }) ?? "    ") + $0.usage, describe($0)) })
        }
        lines += ["", "Runs: " + runs(task)]
        let hooks = deployfile.hooks.filter { $0.target == task.name }
        if !hooks.isEmpty {
            let said = hooks.map { hook -> String in
                switch hook.when {
                case .before: return "before it: \(hook.task)"
                case .after: return "after it: \(hook.task)"
                case .failed: return "when it fails: \(hook.task)"
                }
            }
            lines.append("Hooks: " + said.joined(separator: "; "))
        }
        lines += ["", "Global options (before or after the task's name) are in swiftfab --help: -e ENV, -H HOSTS, -R ROLES, --dry-run, --json, -v, ..."]
        return lines.joined(separator: "\n")
    }

    /// `swiftfab --help` from inside a Deployfile's folder: how to run a task, the global options, the tasks.
    public static func overview(_ deployfile: Deployfile) -> String {
        """
        usage: swiftfab [OPTIONS] TASK [TASK OPTIONS AND ARGUMENTS]
               swiftfab TASK --help | help TASK    a task's options
               swiftfab check                      check the Deployfile (for CI)

        Options (before or after the task's name):
        \(GlobalOptions.helpText)

        \(list(deployfile))
        """
    }

    /// `swiftfab --list`: tasks with their usage and description, then the environments.
    public static func list(_ deployfile: Deployfile) -> String {
        let rows = deployfile.tasks.map { task -> (String, String) in
            let words = [task.name] + task.options.filter(\.isArgument).map(\.usage)
            return (words.joined(separator: " "), task.description + " (" + runs(task) + ")")
        }
        let width = rows.map(\.0.count).max() ?? 0
        var text = "Tasks of \(deployfile.name):\n"
        text += rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n") + "\n"
        let environments = deployfile.environments.map { "\($0.name) (\($0.hosts.count) host\($0.hosts.count == 1 ? "" : "s"))" }
        if !environments.isEmpty { text += "Environments: " + environments.joined(separator: ", ") + "\n" }
        return text
    }

    /// `swiftfab --list --json`: everything a tool or an editor needs to offer the tasks.
    public static func json(_ deployfile: Deployfile) -> String {
        struct Option: Encodable {
            var name: String, short: String?, kind: String, value: String?, required: Bool?, help: String, `default`: String?, choices: [String]?
        }
        struct Task: Encodable {
            var name: String, description: String, roles: [String], once: Bool, strategy: String, options: [Option]
            var hooks: [String: [String]]
        }
        struct EnvironmentEntry: Encodable { var name: String, hosts: [String], roles: [String], `default`: Bool }
        struct Listing: Encodable { var name: String, tasks: [Task], environments: [EnvironmentEntry] }
        let tasks = deployfile.tasks.map { task in
            Task(name: task.name, description: task.description, roles: task.roles.map(\.name), once: task.once, strategy: task.strategy.description,
                 options: task.options.map { option in
                     var kind = "argument", value: String?, required: Bool?, choices: [String]?
                     switch option.kind {
                     case .flag: kind = "flag"
                     case .value(let valueKind, let placeholder, _):
                         kind = "option"
                         value = placeholder
                         if case .choice(let list) = valueKind { choices = list }
                     case .argument(let isRequired): required = isRequired
                     }
                     return Option(name: option.name, short: option.short.map(String.init), kind: kind, value: value, required: required,
                                   help: option.help, default: option.defaultValue, choices: choices)
                 },
                 hooks: Dictionary(grouping: deployfile.hooks.filter { $0.target == task.name }, by: \.when.rawValue).mapValues { $0.map(\.task) })
        }
        let environments = deployfile.environments.map {
            EnvironmentEntry(name: $0.name, hosts: $0.hosts.map(\.address), roles: Set($0.hosts.flatMap(\.roles)).map(\.name).sorted(), default: $0.isDefault)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Listing(name: deployfile.name, tasks: tasks, environments: environments))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// "on hosts with role web; rolling batches of 1; stops at the first failure"
    static func runs(_ task: TaskDefinition) -> String {
        var facts = [task.roles.isEmpty ? "on every host" : "on hosts with role " + task.roles.map(\.name).joined(separator: " or ")]
        if task.once { facts.append("once (the first such host)") }
        facts.append(task.strategy.description)
        if task.failurePolicy == .failFast { facts.append("stops at the first failure") }
        return facts.joined(separator: "; ")
    }

    static func describe(_ option: TaskOption) -> String {
        var text = option.help
        if case .value(.choice(let choices), _, _) = option.kind { text += " (one of: \(choices.joined(separator: ", ")))" }
        if case .value(_, _, let implicit?) = option.kind { text += " (alone: \(implicit))" }
        if let value = option.defaultValue { text += " (default: \(value))" }
        if case .argument(let required) = option.kind, !required, option.defaultValue == nil { text += " (optional)" }
        return text
    }

    static func table(_ rows: [(String, String)]) -> [String] {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
    }
}
