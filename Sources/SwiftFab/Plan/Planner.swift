import Foundation

/// Turns a Deployfile's tasks into plans: which hosts, in which batches,
/// doing exactly what. Pure: nothing connects, nothing runs.
public struct Planner: Sendable {
    public let deployfile: Deployfile
    public let settings: ResolvedSettings
    /// The run the plans are for (hooks and invoked tasks see it too).
    public var run: RunContext

    public init(deployfile: Deployfile, settings: ResolvedSettings = ResolvedSettings(),
                run: RunContext = RunContext(deployfileDirectory: FileManager.default.currentDirectoryPath)) {
        self.deployfile = deployfile
        self.settings = settings
        self.run = run
    }

    /// The task itself with its before/after hooks around it (hooks of hooks
    /// too), in the order they run.
    public func runOrder(_ name: String) throws -> [String] {
        var order: [String] = []
        try visit(name, stack: [], into: &order)
        return order
    }

    private func visit(_ name: String, stack: [String], into order: inout [String]) throws {
        guard deployfile.task(named: name) != nil else { throw unknownTask(name, hookedFrom: stack.last) }
        if stack.contains(name) {
            throw SwiftFabError(.config, "hooks loop: \((stack + [name]).joined(separator: " -> "))",
                                hint: "remove one of these Before/After hooks from the Deployfile")
        }
        for hook in deployfile.hooks where hook.when == .before && hook.target == name {
            try visit(hook.task, stack: stack + [name], into: &order)
        }
        order.append(name)
        for hook in deployfile.hooks where hook.when == .failed && hook.target == name && deployfile.task(named: hook.task) == nil {
            throw unknownTask(hook.task, hookedFrom: name)
        }
        for hook in deployfile.hooks where hook.when == .after && hook.target == name {
            try visit(hook.task, stack: stack + [name], into: &order)
        }
    }

    public func unknownTask(_ name: String, hookedFrom: String? = nil, invokedFrom: String? = nil) -> SwiftFabError {
        let near = deployfile.names(near: name)
        let context = hookedFrom.map { " (named by a hook of \($0))" } ?? invokedFrom.map { " (invoked by \($0))" } ?? ""
        return SwiftFabError(.invalidInput, "unknown task \(Shell.quote(name))\(context)",
                             hint: near.isEmpty ? "swiftfab --list shows the tasks" : "did you mean: \(near.prefix(3).joined(separator: ", "))? (swiftfab --list shows all tasks)")
    }

    /// The hosts `task` runs on among `hosts`: by role, then `once`.
    public func hosts(for task: TaskDefinition, among hosts: [HostDefinition]) -> [HostDefinition] {
        var chosen = task.roles.isEmpty ? hosts : hosts.filter { !$0.roles.isDisjoint(with: task.roles) }
        if task.once { chosen = Array(chosen.prefix(1)) }
        return chosen
    }

    /// Plans `name` with positional arguments only (hooks, Invoke, tests).
    public func plan(_ name: String, arguments: [String] = [], hosts: [HostDefinition]) throws -> TaskPlan {
        guard let task = deployfile.task(named: name) else { throw unknownTask(name) }
        let required = task.options.filter { $0.kind == .argument(required: true) }
        if arguments.count < required.count {
            let missing = required[arguments.count...].map { $0.name.uppercased() }.joined(separator: " ")
            throw SwiftFabError(.invalidInput, "\(name) needs \(missing)", hint: TaskCommandLine.usage(task))
        }
        return try plan(name, arguments: positional(arguments, for: task), hosts: hosts)
    }

    /// Plans `name` with what its command line gave it.
    public func plan(_ name: String, arguments: TaskArguments, hosts: [HostDefinition]) throws -> TaskPlan {
        guard let task = deployfile.task(named: name) else { throw unknownTask(name) }
        let steps = try evaluate(task, arguments)
        let chosen = self.hosts(for: task, among: hosts)
        var items: [HostDefinition: [PlanItem]] = [:]
        let expanded = try expand(steps, Scope(), stack: [name])
        for host in chosen { items[host] = expanded }
        let summaries = steps.compactMap { step -> (@Sendable (AfterAllHostsContext) async -> [String])? in
            if case .summary(let lines) = step { return lines } else { return nil }
        }
        return TaskPlan(task: task, arguments: arguments, batches: task.strategy.batches(chosen), items: items, summaries: summaries)
    }

    /// The task and its hooks, each planned, in the order they run: a task
    /// that cannot be planned stops everything before anything connects.
    public func plans(_ name: String, arguments: TaskArguments, hosts: [HostDefinition]) throws -> [TaskPlan] {
        try runOrder(name).map { try $0 == name ? plan($0, arguments: arguments, hosts: hosts) : plan($0, hosts: hosts) }
    }

    /// Positional values as a task's arguments, with its declared defaults and this run.
    func positional(_ values: [String], for task: TaskDefinition) -> TaskArguments {
        var defaults: [String: String] = [:]
        for option in task.options { if let value = option.defaultValue { defaults[option.name] = value } }
        return TaskArguments(values: values, names: task.arguments, defaults: defaults, run: run)
    }

    /// Directory and environment in force where a step stands.
    struct Scope {
        var directory: String?
        var environment: [String: ShellString] = [:]

        func apply(_ command: Command) -> Command {
            var result = command.with(shellEnvironment: environment.merging(command.environment) { _, own in own })
            if command.directory == nil, let directory { result = result.within(directory) }
            return result
        }

        func entering(_ path: String) -> Scope {
            var copy = self
            // Relative to the outer directory, as `cd` would be.
            copy.directory = path.hasPrefix("/") || directory == nil ? path : directory! + "/" + path
            return copy
        }
    }

    func expand(_ steps: [Step], _ scope: Scope, stack: [String]) throws -> [PlanItem] {
        try steps.flatMap { step -> [PlanItem] in
            switch step {
            case .run(let command): return [.command(scope.apply(command))]
            case .local(let command): return [.local(scope.apply(command))]
            case .upload(let local, let remote, let mode):
                return [.upload(local: local, remote: resolve(remote, scope), mode: mode)]
            case .download(let remote, let local): return [.download(remote: resolve(remote, scope), local: local)]
            case .within(let path, let inner): return try expand(inner, scope.entering(path), stack: stack)
            case .environment(let variables, let inner):
                var nested = scope
                nested.environment.merge(variables) { _, new in new }
                return try expand(inner, nested, stack: stack)
            case .when(let condition, let then, let otherwise):
                return [.when(scope.apply(condition), then: try expand(then, scope, stack: stack),
                              otherwise: try expand(otherwise, scope, stack: stack))]
            case .invoke(let name, let arguments):
                guard let task = deployfile.task(named: name) else { throw unknownTask(name, invokedFrom: stack.last) }
                if stack.contains(name) {
                    throw SwiftFabError(.config, "tasks invoke each other in a loop: \((stack + [name]).joined(separator: " -> "))",
                                        hint: "remove one of the Invoke steps")
                }
                let inner = try evaluate(task, positional(arguments, for: task))
                return [.invoked(name, try expand(inner, scope, stack: stack + [name]))]
            case .dynamic(let description, let body): return [.dynamic(description, body)]
            case .summary: return []  // the plan's own, not a host's
            }
        }
    }

    /// Runs a task's body with the settings in reach of `Settings[...]`.
    private func evaluate(_ task: TaskDefinition, _ arguments: TaskArguments) throws -> [Step] {
        let scope = SettingsScope(settings, dryRun: run.dryRun)
        let steps = try Settings.$current.withValue(scope) { try task.steps(arguments) }
        if let problem = scope.problems.first {
            throw SwiftFabError(.config, "task \(task.name): \(problem)",
                                hint: "export the variable, or put it in an env file named by EnvFile(...) in the Deployfile")
        }
        return steps
    }

    /// A relative remote path inside Within is relative to its directory.
    private func resolve(_ path: String, _ scope: Scope) -> String {
        guard !path.hasPrefix("/"), !path.hasPrefix("~"), let directory = scope.directory else { return path }
        return directory + "/" + path
    }
}
