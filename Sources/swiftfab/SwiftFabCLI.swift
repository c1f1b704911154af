import ArgumentParser
import Foundation
import SwiftFab

/// `swiftfab exec|put|get|trust|init ...` are built in; anything else is a
/// task of the Deployfile, which is compiled (or taken from the cache) and run.
@main
enum Launcher {
    static let builtins: Set<String> = ["exec", "put", "get", "trust", "init", "completions", "help", "-h", "--help", "--version",
                                        "--generate-completion-script"]

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
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
            CLI.warn("no \(path) here. `swiftfab init` writes one; -f FILE names another; `swiftfab --help` lists the builtin commands")
            exit(64)
        }
        guard let runtime = DeployfileCompiler.Runtime.locate() else {
            CLI.warn("cannot find the SwiftFab runtime (Modules/SwiftFab.swiftmodule and libSwiftFabRuntime.so) next to this swiftfab; install it with scripts/install")
            exit(70)
        }
        let compiler = DeployfileCompiler(deployfile: path, runtime: runtime)
        do {
            let start = Date()
            // Opened after the cache and the program are checked as the user's own: that file is what runs.
            let (descriptor, program, compiled) = try compiler.openProgram()
            if compiled && Terminal.stderrIsTTY {
                CLI.warn(String(format: "compiled %@ in %.1fs", path, Date().timeIntervalSince(start)))
            }
            setenv("SWIFTFAB_DEPLOYFILE_DIR", URL(fileURLWithPath: path).deletingLastPathComponent().path, 1)
            let argv = ([program] + arguments).map { strdup($0) } + [nil]
            #if os(Linux)
            fexecve(descriptor, argv, environ)
            #else
            execv(program, argv)
            #endif
            CLI.warn("cannot run \(program): \(String(cString: strerror(errno)))")
            exit(70)
        } catch {
            CLI.warn("\(error)")
            exit(1)
        }
    }

    /// `-f FILE` / `--file FILE` / `--file=FILE`, else ./Deployfile.swift.
    /// Everything after `--` belongs to the task, so it is not looked at.
    static func deployfilePath(_ arguments: [String]) -> String {
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { break }
            if (argument == "-f" || argument == "--file"), index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--file=") { return String(argument.dropFirst(7)) }
        }
        return "Deployfile.swift"
    }
}

struct SwiftFabCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftfab",
        abstract: "Run tasks on your servers over SSH: deploys, rollbacks, backups, checks.",
        discussion: """
            With a Deployfile.swift here: swiftfab --list, swiftfab TASK [ARGS] [--dry-run] [-e ENV] [-H HOSTS] [-R ROLES] [--json].
            Start one with: swiftfab init
            """,
        version: SwiftFabVersion.current,
        subcommands: [ExecCommand.self, PutCommand.self, GetCommand.self, TrustCommand.self, InitCommand.self, CompletionsCommand.self]
    )
}
