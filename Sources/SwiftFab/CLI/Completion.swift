import Foundation

/// Shell completion from the same declarations the parser uses: the shell
/// scripts (`swiftfab completions bash|zsh|fish`) ask
/// `swiftfab __complete SHELL WORD...` for the words that may come next, so
/// completion never drifts from what the program accepts.
///
/// The words are given as the program would get them (quotes removed), the
/// one being typed last and cut at the cursor. The answer is one candidate a
/// line, or the single line `:files` where a path goes: each shell then
/// completes file names its own way. Anywhere else no file names are offered.
public struct Completion: Sendable {
    public static let command = "__complete"
    /// The answer that asks the shell for file names; never a candidate.
    public static let filesLine = ":files"
    /// What the launcher runs itself; offered where a task name may go.
    public static let builtins: [(String, String)] = [
        ("exec", "run one command on many hosts"), ("put", "upload files"), ("get", "download files"),
        ("trust", "record a host's key"), ("init", "write a Deployfile"), ("completions", "print a completion script"),
        ("help", "help, or a task's options"), ("check", "check the Deployfile"), ("edit", "open the Deployfile with completion in an editor"),
    ]
    static let shells = ["bash", "zsh", "fish"]

    let deployfile: Deployfile?

    public init(deployfile: Deployfile?) { self.deployfile = deployfile }

    /// What may stand where the last word is typed: these words (with what each is), or a file name.
    public struct Offer: Sendable {
        public var words: [(String, String)] = []
        public var files = false
        static let files = Offer(files: true)
    }

    /// `args`: the shell's name, then the words after `swiftfab`, the one being completed last.
    public func answer(_ args: [String]) -> Int32 {
        guard let shell = args.first else { return TaskCLI.usageError }
        let offer = offer(Array(args.dropFirst()))
        let lines = offer.files ? [Self.filesLine] : offer.words.compactMap { Self.line($0.0, about: $0.1, shell: shell) }
        if !lines.isEmpty { print(lines.joined(separator: "\n")) }
        return 0
    }

    /// One candidate as `shell` reads it; nil for a word no line can carry.
    static func line(_ word: String, about: String, shell: String) -> String? {
        guard !word.isEmpty, word != filesLine, !word.contains(where: \.isNewline), !word.contains("\t") else { return nil }
        let about = String(about.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        switch shell {
        // _describe splits at the first unescaped colon.
        case "zsh": return word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:") + (about.isEmpty ? "" : ":" + about)
        case "fish": return word + (about.isEmpty ? "" : "\t" + about)
        default: return word
        }
    }

    /// The words that may stand where the last of `words` is being typed, with what each is.
    public func candidates(_ words: [String]) -> [(String, String)] { offer(words).words }

    /// What may stand where the last of `words` is being typed.
    public func offer(_ words: [String]) -> Offer {
        let current = words.last ?? ""
        let line = ReadSoFar(words.dropLast(), deployfile: deployfile)
        if let value = line.pending, !(value.optional && current.hasPrefix("-")) {
            return values(value.kind, typed: current, after: "", line)
        }
        if !line.onlyArguments && current.hasPrefix("-") {
            // `--env=pro`: the option's values, written after the `=`.
            if current.hasPrefix("--"), let equals = current.firstIndex(of: "=") {
                guard let value = line.value(named: String(current[..<equals])) else { return Offer() }
                return values(value.kind, typed: String(current[current.index(after: equals)...]), after: String(current[...equals]), line)
            }
            return Offer(words: options(line).filter { $0.0.hasPrefix(current) })
        }
        guard let command = line.command else {
            return Offer(words: unique(tasks + Self.builtins, sorted: false).filter { $0.0.hasPrefix(current) })
        }
        if let task = line.task {
            // The next positional argument's choices, if it has any.
            let arguments = task.options.filter(\.isArgument)
            guard line.arguments < arguments.count else { return Offer() }
            let argument = arguments[line.arguments]
            return Offer(words: (argument.choices ?? []).map { ($0, argument.name) }.filter { $0.0.hasPrefix(current) })
        }
        switch command {
        case "help" where line.arguments == 0: return Offer(words: tasks.filter { $0.0.hasPrefix(current) })
        case "completions" where line.arguments == 0: return Offer(words: Self.shells.map { ($0, "") }.filter { $0.0.hasPrefix(current) })
        // put LOCAL REMOTE, get REMOTE LOCAL: the local path is a file name here.
        case "put" where line.arguments == 0, "get" where line.arguments == 1: return .files
        default: return Offer()
        }
    }

    private var tasks: [(String, String)] { deployfile?.tasks.map { ($0.name, $0.description) } ?? [] }

    /// The options that may come next: the task's, then the global ones (none after a builtin, which has its own).
    private func options(_ line: ReadSoFar) -> [(String, String)] {
        if line.task == nil, let command = line.command, Self.builtins.contains(where: { $0.0 == command }) { return [] }
        let own = line.task?.options.filter { !$0.isArgument }.map { ("--" + $0.name, $0.help) } ?? []
        return own + GlobalOptions.specs.filter { !$0.hidden }.map { ("--" + $0.long, $0.help) }
    }

    /// An option's values that start with `typed`, each written after `after` (`--env=`).
    private func values(_ kind: ValueCompletion, typed: String, after: String, _ line: ReadSoFar) -> Offer {
        let words: [(String, String)]
        switch kind {
        case .files: return .files
        case .words(let choices): words = choices.map { ($0, "") }
        case .environment: words = deployfile?.environments.map { ($0.name, "\($0.hosts.count) host\($0.hosts.count == 1 ? "" : "s")") } ?? []
        case .host: return Offer(words: listed(hosts(line), typed: typed, after: after))
        case .role: return Offer(words: listed(roles, typed: typed, after: after))
        case .none: words = []
        }
        return Offer(words: words.filter { $0.0.hasPrefix(typed) }.map { (after + $0.0, $0.1) })
    }

    /// `-H web1,db<Tab>`: hosts and roles are comma lists; complete the last item, leaving out those given.
    private func listed(_ items: [(String, String)], typed: String, after: String) -> [(String, String)] {
        let head = typed.lastIndex(of: ",").map { String(typed[...$0]) } ?? ""
        let given = Set(head.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let last = String(typed.dropFirst(head.count))
        return items.filter { !given.contains($0.0) && $0.0.hasPrefix(last) }.map { (after + head + $0.0, $0.1) }
    }

    /// The hosts of the environment the run would use (-e, the only one, the default), else of all.
    private func hosts(_ line: ReadSoFar) -> [(String, String)] {
        guard let deployfile else { return [] }
        let all = deployfile.environments
        let chosen = line.environment.map { name in all.filter { $0.name == name } }
            ?? (all.count == 1 ? all : all.filter(\.isDefault))
        return unique((chosen.isEmpty ? all : chosen).flatMap(\.hosts).map { ($0.address, $0.roles.map(\.name).sorted().joined(separator: ", ")) })
    }

    private var roles: [(String, String)] {
        guard let deployfile else { return [] }
        return unique((deployfile.environments.flatMap { $0.hosts.flatMap(\.roles) } + deployfile.tasks.flatMap(\.roles)).map { ($0.name, "role") })
    }

    private func unique(_ pairs: [(String, String)], sorted: Bool = true) -> [(String, String)] {
        var seen = Set<String>()
        let kept = pairs.filter { seen.insert($0.0).inserted }
        return sorted ? kept.sorted { $0.0 < $1.0 } : kept
    }
}

/// What an option's value completes to.
enum ValueCompletion {
    case none, files, environment, host, role
    case words([String])

    init(_ kind: TaskOption.ValueKind) {
        switch kind {
        case .choice(let choices): self = .words(choices)
        case .path: self = .files
        case .text, .integer, .number: self = .none
        }
    }

    init(_ completion: GlobalOptions.Completion) {
        switch completion {
        case .none: self = .none
        case .file: self = .files
        case .environment: self = .environment
        case .host: self = .host
        case .role: self = .role
        }
    }
}

/// The words before the one being typed, read as `TaskCommandLine.parse` reads
/// them: the task's own options first after its name, everything a plain
/// argument after `--`.
struct ReadSoFar {
    /// The first plain word: a task's name or a builtin.
    var command: String?
    var task: TaskDefinition?
    var environment: String?
    /// Positional arguments given after the command.
    var arguments = 0
    var onlyArguments = false
    /// The option whose value comes next; `optional` when it may be left out (`--download [DIR]`).
    var pending: (kind: ValueCompletion, optional: Bool)?

    init(_ words: ArraySlice<String>, deployfile: Deployfile?) {
        for word in words {
            if let value = pending {
                pending = nil
                // An optional value left out: this word is read as itself.
                if !(value.optional && word.hasPrefix("-")) {
                    if case .environment = value.kind { environment = word }
                    continue
                }
            }
            if onlyArguments || word == "-" || !word.hasPrefix("-") {
                if command == nil {
                    command = word
                    task = deployfile?.task(named: word)
                } else {
                    arguments += 1
                }
            } else if word == "--" {
                onlyArguments = command != nil
            } else {
                let (name, attached) = TaskCommandLine.split(word)
                guard let value = value(named: name) else { continue }
                if let attached {
                    if case .environment = value.kind { environment = attached }
                } else {
                    pending = value
                }
            }
        }
    }

    /// What the value of the option `name` (`--env`, `-e`) completes to; nil for a flag or an unknown name.
    func value(named name: String) -> (kind: ValueCompletion, optional: Bool)? {
        if let option = task?.option(for: name) {
            guard case .value(let kind, _, let implicit) = option.kind else { return nil }
            return (ValueCompletion(kind), implicit != nil)
        }
        guard let spec = GlobalOptions.spec(for: name), spec.value != nil else { return nil }
        return (ValueCompletion(spec.completion), false)
    }
}

extension Completion {
    /// The script each shell loads; it asks `swiftfab __complete` at every Tab.
    public static func script(for shell: String) -> String? {
        switch shell {
        case "bash": return bashScript
        case "zsh": return zshScript
        case "fish": return fishScript
        default: return nil
        }
    }

    // Bash gives the words split at = and : too, quotes and all, and replaces
    // only the text after the last such break: the script glues the words back,
    // unquotes them, and quotes each answer for where it goes.
    static let bashScript = #"""
        # bash completion for swiftfab: at each Tab, `swiftfab __complete` answers from the Deployfile here.
        # A word as the command gets it (quotes and backslashes removed, nothing expanded) in REPLY,
        # the quote left open at its end in _swiftfab_quote.
        _swiftfab_unquote() {
            local text=$1 c i=0
            REPLY= _swiftfab_quote=
            while ((i < ${#text})); do
                c=${text:i:1}
                ((++i))
                case $_swiftfab_quote$c in
                    "''" | '""') _swiftfab_quote= ;;
                    "'"?) REPLY+=$c ;;
                    "'" | '"') _swiftfab_quote=$c ;;
                    '\') REPLY+=${text:i:1}; ((++i)) ;;
                    '"\') if [[ ${text:i:1} == [\"\\\$\`] ]]; then REPLY+=${text:i:1}; ((++i)); else REPLY+=$c; fi ;;
                    *) REPLY+=$c ;;
                esac
            done
        }
        _swiftfab() {
            local line space word candidate keep quote i n=-1 raw=() words=()
            if [[ -n ${COMP_LINE-} ]]; then
                line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
            else
                printf -v line '%s ' "${COMP_WORDS[@]:0:COMP_CWORD+1}"
                line=${line% }
            fi
            # The words as typed: what touches in the line is one word; the last ends at the cursor.
            for ((i = 0; i <= COMP_CWORD; i++)); do
                space=${line%%[![:space:]]*}
                line=${line:${#space}}
                word=${COMP_WORDS[i]}
                ((i < COMP_CWORD)) || word=$line
                if ((n >= 0)) && [[ -z $space ]]; then raw[n]+=$word; else raw[++n]=$word; fi
                line=${line:${#word}}
            done
            for word in "${raw[@]:1}"; do
                _swiftfab_unquote "$word"
                words+=("$REPLY")
            done
            # What bash replaces ($2) follows the last = or : or an opening quote; the answers lose what is before.
            _swiftfab_unquote "${raw[n]%"${2-${COMP_WORDS[COMP_CWORD]}}"}"
            keep=$REPLY quote=$_swiftfab_quote
            COMPREPLY=()
            while IFS= read -r candidate; do
                if [[ $candidate == :files ]]; then
                    compopt -o default 2>/dev/null  # readline completes the file names
                    COMPREPLY=()
                    return 0
                fi
                [[ $candidate == "$keep"* ]] || continue
                candidate=${candidate:${#keep}}
                case $quote in
                    \') candidate=${candidate//\'/\'\\\'\'} ;;
                    \") candidate=${candidate//\\/\\\\} candidate=${candidate//\"/\\\"}
                        candidate=${candidate//\$/\\\$} candidate=${candidate//\`/\\\`} ;;
                    *) if [[ $candidate == *[![:alnum:]_./:=,@%+-]* ]]; then printf -v candidate %q "$candidate"; fi ;;
                esac
                COMPREPLY+=("$candidate")
            done < <(command swiftfab __complete bash "${words[@]}" 2>/dev/null)
        }
        complete -F _swiftfab swiftfab
        """#

    // Works sourced (after compinit) and as the file _swiftfab in $fpath.
    static let zshScript = #"""
        #compdef swiftfab
        # zsh completion for swiftfab: at each Tab, `swiftfab __complete` answers from the Deployfile here.
        _swiftfab() {
            local -a offered
            # The words as the command gets them (quotes removed), the current one up to the cursor.
            offered=("${(@f)$(command swiftfab __complete zsh "${(@Q)words[2,CURRENT-1]}" "${(Q)PREFIX}" 2>/dev/null)}")
            if [[ $offered[1] == :files ]]; then
                compset -P '--[^=]#='
                _files
            elif [[ -n $offered[1] ]]; then
                _describe -t values swiftfab offered
            fi
        }
        if [[ $funcstack[1] == _swiftfab ]]; then
            _swiftfab "$@"  # loaded from $fpath at the first Tab: complete now
        else
            compdef _swiftfab swiftfab
        fi
        """#

    static let fishScript = #"""
        # fish completion for swiftfab: at each Tab, `swiftfab __complete` answers from the Deployfile here.
        function __swiftfab_complete
            # The words as the command gets them (quotes removed), the current one up to the cursor.
            set -l token (commandline -ct)
            set -l current (string unescape -- "$token")
            set -l answer (command swiftfab __complete fish (commandline -opc)[2..-1] "$current" 2>/dev/null)
            if test "$answer[1]" = :files
                # File names as fish completes any command's (quotes, ~ and --option= understood).
                complete -C "__swiftfab_path $token"
            else if set -q answer[1]
                printf '%s\n' $answer
            end
        end
        complete -c swiftfab -f -a '(__swiftfab_complete)'
        """#
}
