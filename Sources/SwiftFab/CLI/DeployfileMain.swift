internal import ArgumentParser
import Foundation

/// The entry point of a compiled Deployfile: `swiftfab <task> [args]` ends up here.
public enum DeployfileMain {
    public static func run(_ deployfile: Deployfile) async -> Never {
        Interrupt.install()
        do {
            var command = try TaskCommand.parse(Array(CommandLine.arguments.dropFirst()))
            command.deployfile = deployfile
            let code = try await command.execute()
            exit(Interrupt.exitStatus ?? max(code, RunStatus.exitCodeFloor))
        } catch CleanExit.message(let text, let code) {
            FileHandle.standardError.write(Data((text + "\n").utf8))
            exit(code)
        } catch let error as SwiftFabError {
            FileHandle.standardError.write(Data("swiftfab: \(error)\n".utf8))
            exit(Interrupt.exitStatus ?? 1)
        } catch {
            TaskCommand.exit(withError: error)
        }
    }
}

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftfab",
        abstract: "Run a task from Deployfile.swift on your servers.",
        discussion: "Builtin commands (no Deployfile needed): exec, put, get, trust, init. Run `swiftfab --list` for the tasks."
    )

    @Flag(name: .shortAndLong, help: "List the tasks with their descriptions.") var list = false
    @Flag(name: .customLong("list-names"), help: .hidden) var listNames = false
    @Option(name: [.customShort("f"), .customLong("file")], help: "The Deployfile (default ./Deployfile.swift).") var file: String?
    @Option(name: [.customShort("e"), .customLong("env")], help: "The environment to run in.") var environmentName: String?
    @Option(name: [.customShort("H"), .customLong("hosts")], help: "Only these hosts (comma separated).") var hostFilter: String?
    @Option(name: [.customShort("R"), .customLong("roles")], help: "Only hosts with these roles (comma separated).") var roleFilter: String?
    @Option(help: "How many hosts to work on at once.") var parallel: Int = 50
    @Flag(name: .customLong("dry-run"), help: "Print the exact commands per host without connecting.") var dryRun = false
    @Flag(help: "Write one JSON event per line instead of text.") var json = false
    @Flag(name: .shortAndLong, help: "Only task headers, failures and results.") var quiet = false
    @Flag(name: .shortAndLong, help: "Also each command's result and time.") var verbose = false
    @Flag(name: .customLong("fail-fast"), help: "Stop starting hosts after the first failure.") var failFast = false
    @Flag(name: .customLong("keep-going"), help: "Carry on with the other hosts after a failure.") var keepGoing = false
    @Option(name: [.customShort("F"), .customLong("ssh-config")], help: "ssh config file (default ~/.ssh/config).") var sshConfig: String?
    @Option(name: .customLong("passphrase-env"), help: "Environment variable holding the identity file's passphrase.") var passphraseEnv: String?
    @Argument(help: "The task to run.") var task: String?
    // Options are recognised anywhere (`swiftfab uptime --dry-run`); what is left, or follows --, is the task's.
    @Argument(parsing: .allUnrecognized, help: "The task's arguments.") var arguments: [String] = []

    var deployfile: Deployfile?

    enum CodingKeys: CodingKey {
        case list, listNames, file, environmentName, hostFilter, roleFilter, parallel, dryRun, json, quiet, verbose, failFast, keepGoing
        case sshConfig, passphraseEnv, task, arguments
    }

    func execute() async throws -> Int32 {
        guard let deployfile else { return 70 }
        RunStatus.jsonOutput = json
        RunStatus.dryRun = dryRun
        if list {
            print(Listing.tasks(deployfile), terminator: "")
            return 0
        }
        if listNames {
            print(deployfile.tasks.map(\.name).joined(separator: "\n"))
            return 0
        }
        guard let task else {
            throw ValidationError("name a task to run; `swiftfab --list` shows them")
        }
        let planner = Planner(deployfile: deployfile)
        guard deployfile.task(named: task) != nil else { throw CleanExit.message(planner.unknownTask(task).description, code: 64) }
        let environment = try chooseEnvironment(deployfile)
        let hosts = try selectHosts(environment)
        let baseDirectory = ProcessInfo.processInfo.environment["SWIFTFAB_DEPLOYFILE_DIR"] ?? FileManager.default.currentDirectoryPath
        let settings = try deployfile.resolveSettings(for: environment, baseDirectory: baseDirectory)
        let sink = makeSink(task: task, baseDirectory: baseDirectory)
        let connection = ConnectionOptions(configFile: sshConfig ?? environment?.sshConfig, passphraseVariable: passphraseEnv)
        var runner = TaskRunner(deployfile: deployfile, environment: environment?.name ?? "-H hosts", hosts: hosts, settings: settings,
                                sink: sink, pool: .ssh(config: try connection.loadConfig(), options: connection))
        runner.parallel = parallel
        if failFast { runner.failurePolicy = .failFast }
        if keepGoing { runner.failurePolicy = .continueOnFailure }
        let passthrough = arguments.first == "--" ? Array(arguments.dropFirst()) : arguments
        if dryRun { return runner.dryRun(task, arguments: passthrough) ? 0 : 1 }
        return await runner.run(task, arguments: passthrough) ? 0 : 1
    }

    private func makeSink(task: String, baseDirectory: String) -> any EventSink {
        let log = LogFileSink(directory: baseDirectory + "/.swiftfab/logs", task: task)
        if json { return FanOutSink([JSONLinesSink(), log]) }
        let verbosity: HumanSink.Verbosity = quiet ? .quiet : (verbose ? .verbose : .normal)
        return FanOutSink([HumanSink(style: Style(enabled: Terminal.colorEnabled()), verbosity: verbosity), log])
    }

    /// -e, or the only environment, or the one marked default; never a guess.
    private func chooseEnvironment(_ deployfile: Deployfile) throws -> Environment? {
        let names = deployfile.environments.map(\.name)
        if let environmentName {
            guard let environment = deployfile.environment(named: environmentName) else {
                throw CleanExit.message("swiftfab: no environment \(environmentName) in the Deployfile (it has: \(names.joined(separator: ", ")))", code: 64)
            }
            return environment
        }
        if deployfile.environments.count == 1 { return deployfile.environments[0] }
        if let preferred = deployfile.environments.first(where: \.isDefault) { return preferred }
        if hostFilter != nil { return nil }
        if names.isEmpty { throw CleanExit.message("swiftfab: the Deployfile declares no Environment and no -H hosts were given", code: 64) }
        throw CleanExit.message("swiftfab: choose an environment with -e (\(names.joined(separator: ", "))), or mark one Environment(..., default: true)", code: 64)
    }

    private func selectHosts(_ environment: Environment?) throws -> [HostDefinition] {
        var hosts = environment?.hosts ?? []
        if let hostFilter {
            let wanted = hostFilter.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            // Named hosts keep their roles; others are taken as ad-hoc hosts that match any role.
            let all = Set(hosts.flatMap(\.roles))
            hosts = wanted.map { name in hosts.first { $0.address == name } ?? HostDefinition(address: name, roles: all) }
        }
        if let roleFilter {
            let roles = Set(roleFilter.split(separator: ",").map { Role(String($0)) })
            hosts = hosts.filter { !$0.roles.isDisjoint(with: roles) }
        }
        if hosts.isEmpty { throw CleanExit.message("swiftfab: no hosts selected (check -e, -H and -R)", code: 64) }
        return hosts
    }
}

enum CleanExit: Error, CustomStringConvertible {
    case message(String, code: Int32)
    var description: String { if case .message(let text, _) = self { return text } else { return "" } }
}

/// `swiftfab --list`: tasks, their descriptions, roles and arguments.
public enum Listing {
    public static func tasks(_ deployfile: Deployfile) -> String {
        let rows = deployfile.tasks.map { task -> (String, String) in
            var name = task.name
            if !task.arguments.isEmpty { name += " " + task.arguments.map { $0.uppercased() }.joined(separator: " ") }
            var about = task.description
            var facts: [String] = []
            if !task.roles.isEmpty { facts.append("on " + task.roles.map(\.name).joined(separator: ", ")) }
            if task.once { facts.append("once") }
            if task.strategy != .parallel { facts.append(task.strategy.description) }
            if !facts.isEmpty { about += " (" + facts.joined(separator: "; ") + ")" }
            return (name, about)
        }
        let width = rows.map(\.0.count).max() ?? 0
        let environments = deployfile.environments.map { "\($0.name) (\($0.hosts.count) host\($0.hosts.count == 1 ? "" : "s"))" }
        var text = "Tasks of \(deployfile.name):\n"
        text += rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n") + "\n"
        if !environments.isEmpty { text += "Environments: " + environments.joined(separator: ", ") + "\n" }
        return text
    }
}
