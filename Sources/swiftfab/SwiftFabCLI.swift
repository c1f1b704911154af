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
        if arguments.first == Completion.command && !FileManager.default.fileExists(atPath: deployfilePath(arguments)) {
            exit(Completion(deployfile: nil).answer(Array(arguments.dropFirst())))
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
        let path = deployfilePath(arguments)
        // Completion scripts ask for task names wherever the user is: no Deployfile, no names, no noise.
        if arguments.first == "--list-names" && !FileManager.default.fileExists(atPath: path) { exit(0) }
        guard FileManager.default.fileExists(atPath: path) else {
            CLI.warn(path == Self.defaultName
                     ? "no \(path) here, nor in a parent folder up to the repository's root. `swiftfab init` writes one; -f FILE names another; `swiftfab --help` lists the builtin commands"
                     : "no \(path) here. `swiftfab init` writes one; -f FILE names another; `swiftfab --help` lists the builtin commands")
            exit(64)
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
            let argv = ([program, "--deployfile-path=" + absolute] + arguments).map { strdup($0) } + [nil]
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

    static let defaultName = "Deployfile.swift"

    /// `-f FILE` / `--file FILE` / `--file=FILE` before the task's name, else
    /// the nearest Deployfile.swift (`discoverDeployfile`), else the name
    /// alone (which does not exist). After the task's name `-f` may be the
    /// task's own (`logs -f` follows), so it is not looked at here.
    static func deployfilePath(_ arguments: [String]) -> String {
        var index = arguments.first == Completion.command ? 2 : 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            guard word.hasPrefix("-"), word != "--" else { break }   // the task's name: stop
            if word.hasPrefix("--file=") { return String(word.dropFirst(7)) }
            guard let spec = GlobalOptions.specs.first(where: { "--" + $0.long == word || $0.short.map { "-\($0)" } == word }),
                  spec.value != nil else { continue }
            if spec.long == "file", index < arguments.count { return arguments[index] }
            index += 1  // the option's value
        }
        return discoverDeployfile() ?? defaultName
    }

    /// Deployfile.swift here, or in the nearest parent folder that has one, so
    /// a project's tasks run from any of its folders. The search stops at the
    /// repository's root (the first folder with `.git`) or at `/`: another
    /// project's Deployfile above this one is never picked up. Here it is the
    /// plain name (messages stay short); above, the absolute path.
    static func discoverDeployfile(from start: String = FileManager.default.currentDirectoryPath) -> String? {
        var folder = URL(fileURLWithPath: start).standardizedFileURL
        var here = true
        while true {
            let candidate = folder.appendingPathComponent(defaultName).path
            if FileManager.default.fileExists(atPath: candidate) { return here ? defaultName : candidate }
            if folder.path == "/" || FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path) { return nil }
            folder.deleteLastPathComponent()
            here = false
        }
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
