import Foundation

/// Shell completion from the same declarations the parser uses: the shell
/// scripts (`swiftfab completions bash|zsh|fish`) ask
/// `swiftfab __complete SHELL WORD...` for the words that may come next, so
/// completion never drifts from what the program accepts.
public struct Completion: Sendable {
    public static let command = "__complete"
    /// What the launcher runs itself; offered where a task name may go.
    public static let builtins: [(String, String)] = [
        ("exec", "run one command on many hosts"), ("put", "upload files"), ("get", "download files"),
        ("trust", "record a host's key"), ("init", "write a Deployfile"), ("completions", "print a completion script"),
        ("help", "help, or a task's options"), ("check", "check the Deployfile"),
    ]

    let deployfile: Deployfile?

    public init(deployfile: Deployfile?) { self.deployfile = deployfile }

    /// `args`: the shell's name, then the words after `swiftfab`, the one being completed last.
    public func answer(_ args: [String]) -> Int32 {
        guard let shell = args.first else { return TaskCLI.usageError }
        let lines = candidates(Array(args.dropFirst())).map { word, about in
            switch shell {
            case "zsh": return word.replacingOccurrences(of: ":", with: "\\:") + (about.isEmpty ? "" : ":" + about)
            case "fish": return word + (about.isEmpty ? "" : "\t" + about)
            default: return word
            }
        }
        if !lines.isEmpty { print(lines.joined(separator: "\n")) }
        return 0
    }

    /// The words that may stand where the last of `words` is being typed, with what each is.
    public func candidates(_ words: [String]) -> [(String, String)] {
        let current = words.last ?? ""
        var task: TaskDefinition?
        var environment: String?
        var pending: Pending?
        for word in words.dropLast() {
            if let waiting = pending {
                if case .global(.environment) = waiting { environment = word }
                pending = nil
                continue
            }
            let name = TaskCommandLine.split(word).0
            if word.hasPrefix("-") {
                if let option = task?.option(for: name), case .value(let kind, _, let implicit) = option.kind, implicit == nil, !word.contains("=") {
                    pending = .task(kind)
                } else if let spec = GlobalOptions.spec(for: name), spec.value != nil, !word.contains("=") {
                    pending = .global(spec.completion)
                }
            } else if task == nil {
                task = deployfile?.task(named: word)
            }
        }
        let offered: [(String, String)]
        switch pending {
        case .global(let completion)?: offered = values(for: completion, environment: environment)
        case .task(.choice(let choices))?: offered = choices.map { ($0, "") }
        case .task?: offered = []
        case nil where current.hasPrefix("-"):
            offered = (task?.options.filter { !$0.isArgument }.map { ("--" + $0.name, $0.help) } ?? [])
                + GlobalOptions.specs.filter { !$0.hidden }.map { ("--" + $0.long, $0.help) }
        case nil where task == nil:
            offered = (deployfile?.tasks.map { ($0.name, $0.description) } ?? []) + Self.builtins
        case nil:
            // The next positional argument's choices, if it has any.
            let given = words.dropLast().drop { deployfile?.task(named: $0) == nil }.dropFirst().filter { !$0.hasPrefix("-") }.count
            let arguments = task?.options.filter(\.isArgument) ?? []
            offered = given < arguments.count ? (arguments[given].choices ?? []).map { ($0, arguments[given].name) } : []
        }
        return offered.filter { $0.0.hasPrefix(current) }
    }

    private enum Pending {
        case global(GlobalOptions.Completion)
        case task(TaskOption.ValueKind)
    }

    private func values(for completion: GlobalOptions.Completion, environment: String?) -> [(String, String)] {
        guard let deployfile else { return [] }
        let environments = environment.flatMap { deployfile.environment(named: $0) }.map { [$0] } ?? deployfile.environments
        switch completion {
        case .environment: return deployfile.environments.map { ($0.name, "\($0.hosts.count) hosts") }
        case .host: return unique(environments.flatMap(\.hosts).map { ($0.address, $0.roles.map(\.name).sorted().joined(separator: ", ")) })
        case .role: return unique((deployfile.environments.flatMap { $0.hosts.flatMap(\.roles) } + deployfile.tasks.flatMap(\.roles)).map { ($0.name, "role") })
        case .file, .none: return []
        }
    }

    private func unique(_ pairs: [(String, String)]) -> [(String, String)] {
        var seen = Set<String>()
        return pairs.filter { seen.insert($0.0).inserted }.sorted { $0.0 < $1.0 }
    }

    /// The script each shell loads; it asks `swiftfab __complete` at every Tab.
    public static func script(for shell: String) -> String? {
        switch shell {
        case "bash":
            return """
                _swiftfab() {
                    local IFS=$'\\n'
                    local words
                    words=$(swiftfab __complete bash "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
                    COMPREPLY=($(compgen -W "$words" -- "${COMP_WORDS[COMP_CWORD]}"))
                }
                complete -o default -F _swiftfab swiftfab
                """
        case "zsh":
            return """
                #compdef swiftfab
                _swiftfab() {
                    local -a offered
                    offered=("${(@f)$(swiftfab __complete zsh "${(@)words[2,CURRENT]}" 2>/dev/null)}")
                    if [[ -n "${offered[1]}" ]]; then
                        _describe 'swiftfab' offered
                    else
                        _files
                    fi
                }
                compdef _swiftfab swiftfab
                """
        case "fish":
            return """
                function __swiftfab_complete
                    set -l words (commandline -opc) (commandline -ct)
                    swiftfab __complete fish $words[2..-1] 2>/dev/null
                end
                complete -c swiftfab -a '(__swiftfab_complete)'
                """
        default:
            return nil
        }
    }
}
