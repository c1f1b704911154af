import Foundation

/// Mistakes a Deployfile can make that the compiler cannot see. The
/// structural ones stop every run at load time; `swiftfab check` reports
/// them all, plus what only planning each task shows (settings that are
/// not declared, invoked tasks that do not exist), roles no host has and
/// environments without hosts. Exit 0 when clean, 1 otherwise: fit for CI.
struct DeployfileCheck {
    let deployfile: Deployfile
    let deployfileDirectory: String

    /// Names the launcher keeps for itself: a task of that name could never run.
    static let reserved = ["exec", "put", "get", "trust", "init", "completions", "help", "check", "edit"]

    /// `swiftfab check`, parsed as a task is (`swiftfab -f FILE check`, `check -e prod`); it runs nothing.
    static let command = TaskDefinition(name: "check", description: "Check the Deployfile: what the compiler cannot see (exit 0 when clean, 1 otherwise)") { _ in [] }

    func report() -> Int32 {
        let problems = structuralProblems() + planningProblems() + hostProblems()
        if problems.isEmpty {
            print("Deployfile ok: \(deployfile.tasks.count) tasks, \(deployfile.environments.count) environment\(deployfile.environments.count == 1 ? "" : "s")")
            return 0
        }
        StandardStreams.write(("swiftfab check: \(problems.count) problem\(problems.count == 1 ? "" : "s") in the Deployfile:\n"
            + problems.map { "  - " + $0 + "\n" }.joined()), to: .stderr)
        return 1
    }

    /// What makes the Deployfile wrong whatever is run: checked on every run.
    func structuralProblems() -> [String] {
        var problems: [String] = []
        for name in Set(deployfile.duplicateTasks).sorted() {
            problems.append("two tasks are named \(name); to replace a recipe's task on purpose, declare it with .overriding()")
        }
        for task in deployfile.tasks where Self.reserved.contains(task.name) {
            problems.append("a task may not be named \(task.name): `swiftfab \(task.name)` is swiftfab's own command; rename it")
        }
        for task in deployfile.tasks {
            problems += optionProblems(task)
        }
        problems += hostNameProblems()
        for hook in deployfile.hooks {
            let kind = ["before": "Before", "after": "After", "failed": "OnFailure"][hook.when.rawValue] ?? hook.when.rawValue
            for (role, name) in [("its target", hook.target), ("the task it runs", hook.task)] where deployfile.task(named: name) == nil {
                let near = deployfile.names(near: name)
                problems.append("\(kind)(\"\(hook.target)\", run: \"\(hook.task)\"): \(role), \(name), is not a task"
                                + (near.isEmpty ? "" : " (did you mean \(near.prefix(3).joined(separator: " or "))?)"))
            }
            if let task = deployfile.task(named: hook.task), task.options.contains(where: { $0.kind == .argument(required: true) }) {
                problems.append("\(kind)(\"\(hook.target)\", run: \"\(hook.task)\"): \(hook.task) needs arguments, which a hook cannot give")
            }
        }
        return problems
    }

    /// Host and user names ssh would refuse: a ProxyCommand's %h and %r would hand them to a shell.
    private func hostNameProblems() -> [String] {
        deployfile.environments.flatMap { environment in
            environment.hosts.compactMap { host in
                do throws(SSHName.Refusal) {
                    try SSHName.checkHost(host.address)
                    if let user = host.user { try SSHName.checkUser(user) }
                    return nil
                } catch {
                    return "environment \(environment.name): \(error.message); \(error.hint)"
                }
            }
        }
    }

    private func optionProblems(_ task: TaskDefinition) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        var optionalSeen = false
        for option in task.options {
            if !seen.insert(option.name).inserted { problems.append("task \(task.name) declares \(option.name) twice") }
            if option.name.isEmpty || option.name.hasPrefix("-") || option.name.contains(" ") || option.name.contains("=") {
                problems.append("task \(task.name): \(Shell.quote(option.name)) is not an option name (letters, digits and dashes, without the leading --)")
            }
            if !option.isArgument, GlobalOptions.specs.contains(where: { $0.long == option.name }) {
                problems.append("task \(task.name): --\(option.name) is a global option; name the task's option otherwise")
            }
            if case .argument(let required) = option.kind {
                if required && optionalSeen { problems.append("task \(task.name): the required argument \(option.name) comes after an optional one") }
                if !required { optionalSeen = true }
            }
        }
        return problems
    }

    /// Plans every task (as a dry run, with stand-in values for settings and
    /// arguments) to find settings that are not declared and Invoke steps that
    /// name no task. Other planning failures (no git repository here, say) are
    /// not the Deployfile's mistakes, and are left to the run.
    func planningProblems() -> [String] {
        let settings = ResolvedSettings(values: Dictionary(uniqueKeysWithValues: deployfile.settings.map { ($0.name, SettingValue.plain("x")) })
            .merging(deployfile.environments.flatMap(\.settings)) { first, _ in first })
        let planner = Planner(deployfile: deployfile, settings: settings,
                              run: RunContext(dryRun: true, deployfileDirectory: deployfileDirectory))
        var problems: [String] = []
        for task in deployfile.tasks {
            let values = task.options.filter(\.isArgument).map { $0.defaultValue ?? "x" }
            do {
                _ = try planner.plan(task.name, arguments: values, hosts: [])
            } catch let error as SwiftFabError where error.message.contains("no setting named") || error.message.contains("unknown task") {
                problems.append(error.message)
            } catch {
                continue
            }
        }
        return problems
    }

    /// Environments without hosts, and roles tasks ask for that no host has.
    func hostProblems() -> [String] {
        var problems = deployfile.environments.filter(\.hosts.isEmpty).map { "the environment \($0.name) has no hosts" }
        let roles = Set(deployfile.environments.flatMap { $0.hosts.flatMap(\.roles) })
        for task in deployfile.tasks where !task.roles.isEmpty && roles.isDisjoint(with: task.roles) && !deployfile.environments.isEmpty {
            problems.append("task \(task.name) runs on hosts with role \(task.roles.map(\.name).joined(separator: " or ")), and no host has it")
        }
        return problems
    }
}
