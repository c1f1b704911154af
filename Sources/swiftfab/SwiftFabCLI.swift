import ArgumentParser
import Foundation
import SwiftFab

/// `swiftfab exec|put|get|trust|init|edit ...` are built in; anything else is a
/// task of the Deployfile, which is compiled (or taken from the cache) and run.
@main
enum Launcher {
    static let builtins: Set<String> = ["exec", "put", "get", "trust", "init", "edit", "completions", "-h", "--help", "--version",
                                        "--generate-completion-script"]

    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "-V" { print(SwiftFabVersion.current); return }
        // `help TASK` is the task's help, which only its Deployfile knows.
        if arguments.first == "help" {
            guard arguments.count > 1, !builtins.contains(arguments[1]) else {
                await SwiftFabCLI.main(arguments.count > 1 ? [arguments[1], "--help"] : ["--help"])
                return
            }
            arguments = [arguments[1], "--help"] + arguments.dropFirst(2)
        }
        if arguments.first == Completion.command && !completesFromDeployfile(arguments) {
            exit(Completion(deployfile: nil).answer(Array(arguments.dropFirst())))
        }
        // Beside a Deployfile, `trust` knows its hosts (their ports, users and ssh config).
        if arguments.first == "trust" && !arguments.contains(where: { $0 == "-h" || $0 == "--help" }) && trustsThroughDeployfile() {
            runDeployfile(arguments)
        }
        if arguments.isEmpty || builtins.contains(arguments[0]) || arguments[0].hasPrefix("--generate-completion") {
            Interrupt.install()
            await SwiftFabCLI.main(arguments.isEmpty ? ["--help"] : arguments)
            return
        }
        runDeployfile(arguments)
    }

    /// Compiles the Deployfile if needed, then becomes it (exec), so a cached run costs one exec.
    static func runDeployfile(_ arguments: [String]) -> Never {
        let choice = DeployfileChoice(arguments)
        // Completion scripts ask for task names wherever the user is: no Deployfile (or none that may run), no names, no noise.
        let quiet = arguments.first == "--list-names"
        if choice.named, choice.path?.isBlank != false {
            CLI.warn("-f needs FILE, not an empty word: swiftfab -f path/to/Deployfile.swift TASK")
            exit(64)
        }
        guard let path = choice.path, FileManager.default.fileExists(atPath: path) else {
            if quiet { exit(0) }
            CLI.warn((choice.path.map { "no \($0) here." } ?? "no \(defaultName) \(choice.search.searched).")
                     + " `swiftfab init` writes one; -f FILE names another; `swiftfab --help` lists the builtin commands")
            exit(64)
        }
        if choice.trusted && !choice.named {
            CLI.warn("\(DeployfileTrust.flag) vouches for the Deployfile named with -f: swiftfab -f FILE \(DeployfileTrust.flag) TASK")
            exit(64)
        }
        if !choice.trusted {
            do {
                try DeployfileTrust.check(path, folders: choice.search.folders(before: path))
            } catch {
                if quiet { exit(0) }
                CLI.warn("\(error)")
                exit(64)
            }
        }
        if arguments.prefix(while: { $0 != "--" }).contains(where: { $0 == "-v" || $0 == "--verbose" }) {
            CLI.warn("using " + URL(fileURLWithPath: path).standardizedFileURL.path)  // found upward, it may be a parent folder's
        }
        let runtime: DeployfileCompiler.Runtime
        do {
            runtime = try DeployfileCompiler.Runtime.locate()
        } catch {
            CLI.warn("\(error)")
            exit(70)
        }
        var compiler = DeployfileCompiler(deployfile: path, runtime: runtime)
        compiler.showsCompilerMessages = arguments.prefix { $0 != "--" }.contains { $0 == "-v" || $0 == "--verbose" }
        do {
            let start = Date()
            // Opened after the cache and the program are checked as the user's own: that file is what runs.
            let (descriptor, program, compiled) = try compiler.openProgram()
            if compiled && Terminal.stderrIsTTY {
                CLI.warn(String(format: "compiled %@ in %.1fs", path, Date().timeIntervalSince(start)))
            }
            // The program learns which Deployfile it is from its first argument (relative paths in it are that folder's).
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            // argv[0] is what `ps` shows and `pgrep -f` matches: the user ran swiftfab (the program names itself too: ProcessName).
            let argv = (["swiftfab", "--deployfile-path=" + absolute] + arguments).map { strdup($0) } + [nil]
            #if os(Linux)
            fexecve(descriptor, argv, environ)
            #else
            execv(program, argv)
            #endif
            CLI.warn("cannot run \(program): \(String(cString: strerror(errno)))")
            exit(70)
        } catch let error as DeployfileCompiler.CompilerUnavailable {
            // Like a missing runtime: swiftfab is not fully installed.
            CLI.warn("\(error)")
            exit(70)
        } catch let error as DeployfileCompiler.ToolchainMismatch {
            // Installed for another compiler than the one here.
            CLI.warn("\(error)")
            exit(70)
        } catch {
            CLI.warn("\(error)")
            exit(1)
        }
    }

    static let defaultName = DeployfileSearch.name

    /// A Deployfile here (or up to the repository's root) that may run without a question.
    static func trustsThroughDeployfile() -> Bool {
        let choice = DeployfileChoice([])
        guard let path = choice.path, FileManager.default.fileExists(atPath: path) else { return false }
        return (try? DeployfileTrust.check(path, folders: choice.search.folders(before: path))) != nil
    }

    /// `__complete` runs at every Tab: it compiles only a Deployfile of this
    /// folder's repository (or of this folder, without one) that would run
    /// without a question; else the builtins answer, silently.
    static func completesFromDeployfile(_ arguments: [String]) -> Bool {
        let choice = DeployfileChoice(arguments)
        guard let path = choice.path, FileManager.default.fileExists(atPath: path), choice.search.holds(path) else { return false }
        return (try? DeployfileTrust.check(path, folders: choice.search.folders(before: path))) != nil
    }

    /// The nearest Deployfile.swift (see `DeployfileSearch`): here it is the
    /// plain name (messages stay short); above, the absolute path.
    static func discoverDeployfile(_ search: DeployfileSearch = .here()) -> String? {
        search.nearest.map { $0 == search.folders[0] + "/" + defaultName ? defaultName : $0 }
    }
}

/// The Deployfile a command line names (`-f FILE` / `--file FILE` /
/// `--file=FILE` before the task's name) or else the search finds, and
/// whether the user vouches for it (`--trust-deployfile`; never heard at a
/// Tab). After the task's name `-f` may be the task's own (`logs -f`
/// follows), so it is not looked at.
struct DeployfileChoice {
    let search = DeployfileSearch.here()
    /// nil: none named, none found.
    var path: String?
    var named = false
    var trusted = false

    init(_ arguments: [String]) {
        let completing = arguments.first == Completion.command
        var index = completing ? 2 : 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            guard word.hasPrefix("-"), word != "--" else { break }   // the task's name: stop
            if word == DeployfileTrust.flag { trusted = !completing }
            if word.hasPrefix("--file=") { (path, named) = (String(word.dropFirst(7)), true) }
            guard let spec = GlobalOptions.specs.first(where: { "--" + $0.long == word || $0.short.map { "-\($0)" } == word }),
                  spec.value != nil else { continue }
            if spec.long == "file", index < arguments.count { (path, named) = (arguments[index], true) }
            index += 1  // the option's value
        }
        if !named { path = Launcher.discoverDeployfile(search) }
    }
}

struct SwiftFabCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftfab",
        abstract: "Run tasks on your servers over SSH: deploys, rollbacks, backups, checks.",
        discussion: """
            With a Deployfile.swift here, or in a parent folder up to the repository's root:
              swiftfab [OPTIONS] TASK [TASK OPTIONS AND ARGUMENTS]   run a task
              swiftfab --list                                        the tasks (with --json: for tools)
              swiftfab TASK --help, swiftfab help TASK               a task's options
              swiftfab check                                         check the Deployfile (exit 0 or 1)
            Start one with: swiftfab init --host user@your-server

            Options for task runs (before or after the task's name):
            \(GlobalOptions.helpText)
            """,
        version: SwiftFabVersion.current,
        subcommands: [ExecCommand.self, PutCommand.self, GetCommand.self, TrustCommand.self, InitCommand.self, EditCommand.self,
                      CompletionsCommand.self]
    )
}
