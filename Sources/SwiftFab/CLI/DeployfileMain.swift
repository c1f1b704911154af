import Foundation

/// The entry point of a compiled Deployfile: `swiftfab <task> [args]` ends up here.
public enum DeployfileMain {
    /// The launcher names the Deployfile it compiled with this first argument.
    static let pathArgument = "--deployfile-path="

    public static func run(_ deployfile: Deployfile) async -> Never {
        ProcessName.set("swiftfab")
        Interrupt.install()
        var words = Array(CommandLine.arguments.dropFirst())
        var path = FileManager.default.currentDirectoryPath + "/Deployfile.swift"
        if let first = words.first, first.hasPrefix(pathArgument) {
            path = String(first.dropFirst(pathArgument.count))
            words.removeFirst()
        }
        exit(await TaskCLI(deployfile: deployfile, deployfilePath: path).main(words))
    }
}

/// What `swiftfab` does with a Deployfile: check the command line whole,
/// then help, list, check, complete, or plan and run (or show) a task.
struct TaskCLI {
    let deployfile: Deployfile
    let deployfilePath: String
    var deployfileDirectory: String { URL(fileURLWithPath: deployfilePath).deletingLastPathComponent().path }

    /// EX_USAGE: the command line was wrong; nothing ran.
    static let usageError: Int32 = 64

    func main(_ words: [String]) async -> Int32 {
        if words.first == Completion.command { return Completion(deployfile: deployfile).answer(Array(words.dropFirst())) }
        let line: TaskCommandLine
        do {
            line = try TaskCommandLine.parse(words, deployfile: deployfile)
        } catch {
            return fail(error.message, hint: error.hint, code: Self.usageError)
        }
        let globals = line.globals
        if globals.version { print(SwiftFabVersion.current); return 0 }
        let checking = line.task?.name == DeployfileCheck.command.name
        if globals.help {
            print(checking ? "usage: swiftfab [-f FILE] check\n\n" + DeployfileCheck.command.description
                  : line.task.map { TaskHelp.text(for: $0, in: deployfile) } ?? TaskHelp.overview(deployfile))
            return 0
        }
        if globals.listNames { print(deployfile.tasks.map(\.name).joined(separator: "\n")); return 0 }
        if globals.list {
            print(globals.json ? TaskHelp.json(deployfile) : TaskHelp.list(deployfile), terminator: "")
            return 0
        }
        guard let task = line.task else {
            return fail("name a task to run", hint: "swiftfab --list shows them; swiftfab TASK --help shows a task's options", code: Self.usageError)
        }
        if let file = globals.file, URL(fileURLWithPath: file).standardizedFileURL.path != URL(fileURLWithPath: deployfilePath).standardizedFileURL.path {
            return fail("-f \(file) comes after the task's name, but this run loaded \(deployfilePath)",
                        hint: "name the Deployfile before the task: swiftfab -f \(file) \(task.name) ...", code: Self.usageError)
        }
        if task.name == DeployfileHostTrust.command.name {
            return await DeployfileHostTrust(deployfile: deployfile).run(line.taskArguments(run: RunContext(deployfileDirectory: deployfileDirectory)), globals: globals)
        }
        if checking {
            // -e names an environment even here; the check covers them all.
            if globals.environment != nil {
                do { _ = try HostSelection.environment(deployfile, globals) } catch { return fail(error.message, hint: error.hint, code: Self.usageError) }
            }
            return DeployfileCheck(deployfile: deployfile, deployfileDirectory: deployfileDirectory).report()
        }
        let problems = DeployfileCheck(deployfile: deployfile, deployfileDirectory: deployfileDirectory).structuralProblems()
        if !problems.isEmpty {
            return fail("the Deployfile has \(problems.count == 1 ? "a mistake" : "mistakes"):\n" + problems.map { "  - " + $0 }.joined(separator: "\n"),
                        hint: "fix it, then run again (swiftfab check lists every problem)", code: 1)
        }
        let selection: HostSelection
        do {
            selection = try HostSelection(deployfile: deployfile, globals: globals)
        } catch {
            return fail(error.message, hint: error.hint, code: Self.usageError)
        }
        return await run(task, line: line, selection: selection)
    }

    private func run(_ task: TaskDefinition, line: TaskCommandLine, selection: HostSelection) async -> Int32 {
        let globals = line.globals
        let context = RunContext(dryRun: globals.dryRun, json: globals.json, verbose: globals.verbose,
                                 deployfileDirectory: deployfileDirectory, environment: selection.environment?.name)
        let sink: any EventSink
        var runner: TaskRunner
        let plans: [TaskPlan]
        do {
            let settings = try deployfile.resolveSettings(for: selection.environment, baseDirectory: deployfileDirectory)
            // The log's first line is the command line: known secrets and env-file values are hidden there too.
            sink = makeSink(task: task.name, globals: globals, redactor: Redactor(settings.secrets))
            // A dry run connects to nothing, so it needs no ssh config either.
            let pool: ConnectionPool
            if globals.dryRun {
                pool = ConnectionPool { host in DryRunBackend(host: host.address) }
            } else {
                let options = try globals.connection(environmentConfig: selection.environment?.sshConfig)
                let config = try options.loadConfig()
                // Said before anything connects: a config line swiftfab skips is never skipped silently.
                for warning in config.warnings + config.routeWarnings(for: selection.hosts.map { ($0.sshTarget, $0.target) }, environment: options.environment) {
                    sink.emit(.note(host: nil, text: "warning: " + warning))
                }
                pool = ConnectionPool.ssh(config: config, options: options)
            }
            runner = TaskRunner(deployfile: deployfile, environment: selection.environment?.name ?? "-H hosts", hosts: selection.hosts,
                                settings: settings, sink: sink, pool: pool)
            runner.context = context
            if globals.dryRun { runner = runner.dryRunning() }
            runner.parallel = globals.parallel
            if globals.failFast { runner.failurePolicy = .failFast }
            if globals.keepGoing { runner.failurePolicy = .continueOnFailure }
            // Every task of the run is planned before anything connects: a bad argument,
            // an unknown revision or a missing setting stops it here, dry run or not.
            plans = try runner.plans(task.name, arguments: line.taskArguments(run: context))
        } catch let error as CommandLineError {
            return fail(error.message, hint: error.hint, code: Self.usageError)
        } catch let error as SwiftFabError {
            return fail(error.description, hint: nil, code: error.kind == .invalidInput ? Self.usageError : 1)
        } catch {
            return fail("\(error)", hint: nil, code: 1)
        }
        if globals.dryRun, !runner.settings.missing.isEmpty {
            let names = runner.settings.missing.values.sorted().joined(separator: ", ")
            sink.emit(.note(host: nil, text: "warning: not set here: \(names); the dry run shows them as [secret NAME: not set] (a real run needs them)"))
        }
        let report = await runner.run(task.name, plans: plans)
        guard let stopped = Interrupt.exitStatus else { return report.exitCode }
        // A signal that stopped nothing (it came as the last step was ending, or
        // only cleanup was left) does not make a finished run look stopped; one that
        // stopped a command whose failure a task tolerated still does.
        if report.ok && !Interrupt.stoppedSomething {
            sink.emit(.note(host: nil, text: "\(Interrupt.signalName) came as the run was ending; every step had finished, so nothing was stopped"))
            return report.exitCode
        }
        if report.ok {
            sink.emit(.note(host: nil, text: "\(Interrupt.signalName) stopped a step that the task went on without, so the run counts as stopped"))
        }
        return stopped
    }

    private func makeSink(task: String, globals: GlobalOptions, redactor: Redactor) -> any EventSink {
        let invocation = CommandLine.arguments.dropFirst().filter { !$0.hasPrefix(DeployfileMain.pathArgument) }.map(redactor.redact)
        let log = LogFileSink(directory: deployfileDirectory + "/.swiftfab/logs", task: task, invocation: invocation)
        if globals.json { return FanOutSink([JSONLinesSink(), log]) }
        let verbosity: HumanSink.Verbosity = globals.quiet ? .quiet : (globals.verbose ? .verbose : .normal)
        return FanOutSink([HumanSink(style: Style(enabled: Terminal.colorEnabled()), verbosity: verbosity), log])
    }

    private func fail(_ message: String, hint: String?, code: Int32) -> Int32 {
        StandardStreams.write("swiftfab: " + message + (hint.map { "\n  " + $0 } ?? "") + "\n", to: .stderr)
        return code
    }
}

/// The process's name as `ps -C`, `pgrep` and `top` show it. A compiled
/// Deployfile would be `deployfile-<hash>`, its cached file's name; it is
/// swiftfab to the user who ran it.
enum ProcessName {
    static func set(_ name: String) {
        #if os(Linux)
        // The thread group leader's name (prctl's PR_SET_NAME, which Swift cannot call: it is variadic).
        try? name.write(toFile: "/proc/self/comm", atomically: false, encoding: .utf8)
        #endif
    }
}
