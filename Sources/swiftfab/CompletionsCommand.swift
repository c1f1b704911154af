import ArgumentParser

struct CompletionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completions",
        abstract: "Print a shell completion script (tasks come from the Deployfile in the current directory).",
        discussion: """
            bash: swiftfab completions bash > /etc/bash_completion.d/swiftfab
            zsh:  swiftfab completions zsh > "${fpath[1]}/_swiftfab"
            fish: swiftfab completions fish > ~/.config/fish/completions/swiftfab.fish
            """
    )

    enum ShellKind: String, ExpressibleByArgument, CaseIterable { case bash, zsh, fish }

    @Argument(help: "bash, zsh or fish.") var shell: ShellKind

    static let words = "exec put get trust init completions --list --dry-run --json --env --hosts --roles --parallel --file --quiet --verbose --fail-fast --keep-going --ssh-config --help --version"

    func run() {
        switch shell {
        case .bash:
            print("""
                _swiftfab() {
                    local current="${COMP_WORDS[COMP_CWORD]}"
                    local tasks="$(swiftfab --list-names 2>/dev/null)"
                    COMPREPLY=($(compgen -W "\(Self.words) $tasks" -- "$current"))
                }
                complete -o default -F _swiftfab swiftfab
                """)
        case .zsh:
            print("""
                #compdef swiftfab
                _swiftfab() {
                    local -a words
                    words=(\(Self.words) ${(f)"$(swiftfab --list-names 2>/dev/null)"})
                    _describe 'swiftfab' words
                    _files
                }
                compdef _swiftfab swiftfab
                """)
        case .fish:
            print("""
                complete -c swiftfab -f -a '(swiftfab --list-names 2>/dev/null)' -d task
                complete -c swiftfab -f -a '\(Self.words.split(separator: " ").filter { !$0.hasPrefix("-") }.joined(separator: " "))' -d command
                complete -c swiftfab -l dry-run -d 'print the commands, run nothing'
                complete -c swiftfab -l json -d 'one JSON event per line'
                complete -c swiftfab -s e -l env -r -d environment
                complete -c swiftfab -s H -l hosts -r -d hosts
                complete -c swiftfab -s R -l roles -r -d roles
                """)
        }
    }
}
