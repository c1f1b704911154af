import ArgumentParser
import SwiftFab

struct CompletionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completions",
        abstract: "Print a shell completion script: tasks, their options, environments, roles and hosts come from the Deployfile where you are.",
        discussion: """
            bash: source <(swiftfab completions bash)    in ~/.bashrc
            zsh:  source <(swiftfab completions zsh)     in ~/.zshrc, after compinit
            fish: swiftfab completions fish > ~/.config/fish/completions/swiftfab.fish
            """
    )

    enum ShellKind: String, ExpressibleByArgument, CaseIterable { case bash, zsh, fish }

    @Argument(help: "bash, zsh or fish.") var shell: ShellKind

    func run() {
        print(Completion.script(for: shell.rawValue) ?? "")
    }
}
