import Foundation
import Testing
@testable import SwiftFab
import SwiftFabRecipes

/// Shell completion: what `Completion` offers from a Deployfile's
/// declarations, then the scripts of `swiftfab completions` in real bash, zsh
/// and fish against the built binary (`Shells`).
@Suite struct CompletionTests {
    static let deployfile: Deployfile = {
        let app = BlueGreenConfig(app: "shop", command: "run", runtime: .process)
        return Deployfile("shop") {
            Environment("staging", default: true) { Host("st1.example.com", roles: .web, .db) }
            Environment("production") {
                Host("web1.example.com", roles: .web)
                Host("db1.example.com", roles: .db)
            }
            BlueGreen(app)
            Logs(ServerConfig(app: app))
            Postgres(PostgresConfig(database: "shop"))
            Task("greet", "Say hello", on: .web, options: [
                .argument("name", help: "Who", choices: ["world", "it's me", "a:b"]),
                .option("tone", value: "TONE", help: "How", kind: .choice(["warm", "dry"])),
            ]) { _ in Run("echo hello") }
        }
    }()
    static let which = ["slot", "blue", "green", "proxy", "db"]
    static let builtins = Completion.builtins.map(\.0)
    static let globals = GlobalOptions.specs.filter { !$0.hidden }.map { "--" + $0.long }

    let completion = Completion(deployfile: Self.deployfile)

    /// The words offered after `swiftfab WORDS`, the last being typed.
    func offered(_ words: String...) -> [String] { completion.candidates(words).map(\.0) }

    @Test func taskNamesAndBuiltinsWhereATaskGoes() {
        let tasks = Self.deployfile.tasks.map(\.name)
        #expect(tasks.contains("deploy") && tasks.contains("logs") && tasks.contains("restore") && tasks.suffix(2) == ["greet", "history"])
        #expect(offered("") == tasks + Self.builtins)
        #expect(offered("dep") == ["deploy"])
        #expect(offered("-e", "production", "--dry-run", "gr") == ["greet"])
        #expect(offered("zzz").isEmpty)
        #expect(completion.candidates(["gr"]).first?.1 == "Say hello")
    }

    @Test func aTasksOptionsAfterItsName() throws {
        let deploy = try #require(Self.deployfile.task(named: "deploy"))
        let own = deploy.options.filter { !$0.isArgument }.map { "--" + $0.name }
        #expect(own.contains("--stage"))
        #expect(offered("deploy", "--st") == ["--stage"])
        #expect(offered("deploy", "-") == own + Self.globals)
        #expect(offered("deploy", "v1", "--dry-run", "--st") == ["--stage"])
        #expect(offered("logs", "--f") == ["--follow", "--file", "--fail-fast"])
        // Before the task's name: the global options only; hidden ones never.
        #expect(offered("-") == Self.globals)
        #expect(!Self.globals.contains("--list-names"))
    }

    @Test func environmentsRolesAndHosts() {
        #expect(offered("-e", "") == ["staging", "production"])
        #expect(offered("deploy", "--env", "p") == ["production"])
        #expect(offered("--env=pro") == ["--env=production"])
        #expect(completion.candidates(["-e", "s"]).first?.1 == "1 host")
        #expect(offered("-R", "") == ["db", "web"])
        #expect(offered("--roles=web,") == ["--roles=web,db"])
        // Hosts of the environment the run would use: -e's, else the default one.
        #expect(offered("-H", "") == ["st1.example.com"])
        #expect(offered("-e", "production", "-H", "") == ["db1.example.com", "web1.example.com"])
        #expect(offered("--env=production", "deploy", "--hosts", "w") == ["web1.example.com"])
        #expect(offered("-e", "production", "-H", "web1.example.com,") == ["web1.example.com,db1.example.com"])
        #expect(completion.candidates(["-e", "production", "-H", "d"]).first?.1 == "db")
    }

    @Test func argumentChoicesAndOptionValues() {
        #expect(offered("logs", "") == Self.which)
        #expect(offered("logs", "b") == ["blue"])
        #expect(offered("-e", "production", "logs", "p") == ["proxy"])
        #expect(offered("logs", "-n", "10", "") == Self.which)  // an option's value is no argument
        #expect(offered("logs", "-f", "") == Self.which)        // logs' own -f (follow), not the Deployfile's
        #expect(offered("logs", "green", "").isEmpty)           // it takes one argument
        #expect(offered("greet", "it") == ["it's me"])
        #expect(offered("greet", "--tone", "") == ["warm", "dry"])
        #expect(offered("greet", "--tone=w") == ["--tone=warm"])
        #expect(offered("deploy", "").isEmpty)                  // a revision: nothing known
        #expect(offered("deploy", "--lock-wait", "").isEmpty)
    }

    @Test func afterDoubleDashOnlyArguments() {
        #expect(offered("logs", "--", "") == Self.which)
        #expect(offered("logs", "--", "-").isEmpty)
        #expect(offered("logs", "--", "-f", "").isEmpty)        // -f was the argument
        #expect(offered("deploy", "--", "--st").isEmpty)
        #expect(offered("deploy", "--").contains("--stage"))    // `--` being typed is an option's start
    }

    @Test func pathsAskForFileNamesAndNothingElseDoes() {
        let paths: [[String]] = [["-f", ""], ["--file", "De"], ["--file=De"], ["deploy", "-F", "~/"],
                                 ["restore", "--from-local", ""], ["restore", "--from-local=./d"],
                                 ["backup", "--download", ""], ["put", ""], ["get", "-H", "web1", "/var/log", ""]]
        for words in paths {
            #expect(completion.offer(words).files, "\(words)")
            #expect(completion.candidates(words).isEmpty, "\(words)")
        }
        for words in [[""], ["deploy", ""], ["-e", ""], ["logs", "-f", ""], ["backup", "--download", "-"], ["exec", ""],
                      ["put", "dist", ""], ["get", ""]] {
            #expect(!completion.offer(words).files, "\(words)")
        }
        // The optional value left out: the next word is an option.
        #expect(offered("backup", "--download", "--dr") == ["--dry-run"])
    }

    @Test func builtinsTakeTheirOwnWords() {
        #expect(offered("help", "gr") == ["greet"])
        #expect(offered("help", "greet", "").isEmpty)
        #expect(offered("completions", "") == ["bash", "zsh", "fish"])
        #expect(offered("exec", "-").isEmpty)  // exec's options are its own parser's
    }

    @Test func withoutADeployfileBuiltinsAndGlobalOptions() {
        let bare = Completion(deployfile: nil)
        #expect(bare.candidates([""]).map(\.0) == Self.builtins)
        #expect(bare.candidates(["-"]).map(\.0) == Self.globals)
        #expect(bare.candidates(["deploy", "--dr"]).map(\.0) == ["--dry-run"])
        #expect(bare.candidates(["-e", ""]).isEmpty)
        #expect(bare.offer(["-f", ""]).files)
    }

    @Test func answerLinesForEachShell() {
        #expect(Completion.line("a:b", about: "name", shell: "zsh") == "a\\:b:name")
        #expect(Completion.line("--stage", about: "", shell: "zsh") == "--stage")
        #expect(Completion.line("it's me", about: "name", shell: "fish") == "it's me\tname")
        #expect(Completion.line("it's me", about: "name", shell: "bash") == "it's me")
        #expect(Completion.line("x", about: "two\nlines", shell: "fish") == "x\ttwo lines")
        #expect(Completion.line("two\nlines", about: "", shell: "bash") == nil)
        #expect(Completion.line(Completion.filesLine, about: "", shell: "bash") == nil)
    }
}

extension CompletionTests {
    /// The scripts `swiftfab completions` prints, in real bash, zsh and fish,
    /// against the built binary and one compiled Deployfile.
    @Suite(.serialized, .sandbox) struct Shells {
        static let sandbox = Task { try await Sandbox() }
        let tasks = CompletionTests.deployfile.tasks.map(\.name)

        @Test func bashFromCompWords() async throws {
            let sandbox = try await Self.sandbox.value
            let (project, bare) = (sandbox.project, sandbox.bare)
            await #expect(try sandbox.bash("swiftfab dep", in: project) == ["deploy"])
            await #expect(try sandbox.bash("swiftfab ", in: project) == tasks + CompletionTests.builtins)
            await #expect(try sandbox.bash("swiftfab deploy --st", in: project) == ["--stage"])
            await #expect(try sandbox.bash("swiftfab -e ", in: project) == ["staging", "production"])
            await #expect(try sandbox.bash("swiftfab -R ", in: project) == ["db", "web"])
            await #expect(try sandbox.bash("swiftfab logs -n 5 ", in: project) == CompletionTests.which)
            await #expect(try sandbox.bash("swiftfab -e production -H web1.example.com,", in: project) == ["web1.example.com,db1.example.com"])
            // Bash splits at = and : as well, and replaces only what follows ($2).
            await #expect(try sandbox.bash("swiftfab --env=pro", words: ["swiftfab", "--env", "=", "pro"], typed: "pro", in: project) == ["production"])
            await #expect(try sandbox.bash("swiftfab --env=", words: ["swiftfab", "--env", "="], typed: "", in: project) == ["staging", "production"])
            await #expect(try sandbox.bash("swiftfab greet a:", words: ["swiftfab", "greet", "a", ":"], typed: "", in: project) == ["b"])
            // Each answer quoted for where it goes; $2 lacks an opening quote.
            await #expect(try sandbox.bash("swiftfab greet it", in: project) == [#"it\'s\ me"#])
            await #expect(try sandbox.bash(#"swiftfab greet "it"#, typed: "it", in: project) == ["it's me"])
            await #expect(try sandbox.bash("swiftfab greet 'it", typed: "it", in: project) == [#"it'\''s me"#])
            // The word being typed ends at the cursor.
            await #expect(try sandbox.bash("swiftfab dep --dry-run", cword: 1, point: 12, typed: "dep", in: project) == ["deploy"])
            // File names: readline's own, asked for with compopt; elsewhere none.
            await #expect(try sandbox.bash("swiftfab -f De", in: project) == ["compopt -o default"])
            await #expect(try sandbox.bash("swiftfab restore --from-local=", words: ["swiftfab", "restore", "--from-local", "="], typed: "", in: project) == ["compopt -o default"])
            await #expect(try sandbox.bash("swiftfab deploy ", in: project) == [])
            // Called with COMP_WORDS alone, as older callers do.
            await #expect(try sandbox.bash("swiftfab rel", bare: true, in: project) == ["releases"])
            // No Deployfile here: the builtins and the global options.
            await #expect(try sandbox.bash("swiftfab ", in: bare) == CompletionTests.builtins)
            await #expect(try sandbox.bash("swiftfab --dr", in: bare) == ["--dry-run"])
            await #expect(try sandbox.bash("swiftfab -e ", in: bare) == [])
        }

        @Test func fishCompleteC() async throws {
            let sandbox = try await Self.sandbox.value
            let (project, bare) = (sandbox.project, sandbox.bare)
            await #expect(try sandbox.fish("swiftfab dep", in: project) == ["deploy"])
            await #expect(Set(try sandbox.fish("swiftfab ", in: project)) == Set(tasks + CompletionTests.builtins))
            await #expect(try sandbox.fish("swiftfab deploy --st", in: project) == ["--stage"])
            await #expect(try sandbox.fish("swiftfab -e ", in: project) == ["production", "staging"])
            await #expect(try sandbox.fish("swiftfab -R ", in: project) == ["db", "web"])
            await #expect(try sandbox.fish("swiftfab --env=pro", in: project) == ["--env=production"])
            await #expect(try sandbox.fish("swiftfab logs ", in: project) == CompletionTests.which.sorted())
            await #expect(try sandbox.fish(#"swiftfab greet "it"#, in: project) == ["it's me"])
            await #expect(try sandbox.fish("swiftfab greet a:", in: project) == ["a:b"])
            await #expect(try sandbox.fish("swiftfab -f Dep", in: project) == ["Deployfile.swift"])
            await #expect(try sandbox.fish("swiftfab restore --from-local=Dep", in: project) == ["--from-local=Deployfile.swift"])
            await #expect(try sandbox.fish("swiftfab deploy ", in: project) == [])
            await #expect(Set(try sandbox.fish("swiftfab ", in: bare)) == Set(CompletionTests.builtins))
            await #expect(try sandbox.fish("swiftfab -e ", in: bare) == [])
        }

        @Test func zshLoadsAndAnswersForDescribe() async throws {
            let sandbox = try await Self.sandbox.value
            let script = sandbox.home + "/zsh/_swiftfab"
            await #expect(sandbox.run(["zsh", "-f", "-n", script], in: sandbox.project) == (0, ""))
            let sourced = await sandbox.run(["zsh", "-f", "-c", #"autoload -U compinit && compinit -u -D && source "$1" && print -r -- $_comps[swiftfab]"#,
                                       "zsh", script], in: sandbox.project)
            #expect(sourced == (0, "_swiftfab\n"))
            let fromFpath = await sandbox.run(["zsh", "-f", "-c", #"fpath=("$1" $fpath); autoload -U compinit && compinit -u -D && print -r -- $_comps[swiftfab]"#,
                                         "zsh", sandbox.home + "/zsh"], in: sandbox.project)
            #expect(fromFpath == (0, "_swiftfab\n"))
            let answer = { (words: [String]) async in await sandbox.run(["swiftfab", "__complete", "zsh"] + words, in: sandbox.project).output }
            #expect(await answer(["-e", ""]) == "staging:1 host\nproduction:2 hosts\n")
            #expect(await answer(["greet", "a"]) == "a\\:b:name\n")
            #expect(await answer(["deploy", "--st"]).hasPrefix("--stage:"))
            #expect(await answer(["-f", ""]) == Completion.filesLine + "\n")
        }

        /// A Tab where a parent folder (no repository) holds a Deployfile, and
        /// where another user's is: neither is compiled, nothing of theirs runs,
        /// and the builtins are offered as where there is none.
        @Test func aTabCompilesNoParentFoldersNorAnotherUsersDeployfile() async throws {
            let sandbox = try await Self.sandbox.value
            let folder = try TempDir.make().path
            let (sub, marker, cache) = (folder + "/sub", folder + "/ran", sandbox.home + "/cache")
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            // Its top-level code would leave the mark.
            try """
                import Foundation
                import SwiftFab

                let deployfile: Deployfile = {
                    _ = FileManager.default.createFile(atPath: \(marker.debugDescription), contents: nil)
                    return Deployfile("theirs") { Task("theirs", "Not yours") { Run("true") } }
                }()

                """.write(toFile: folder + "/Deployfile.swift", atomically: true, encoding: .utf8)
            let cached = try FileManager.default.contentsOfDirectory(atPath: cache)
            await #expect(try sandbox.bash("swiftfab ", in: sub) == CompletionTests.builtins)
            await #expect(Set(try sandbox.fish("swiftfab ", in: sub)) == Set(CompletionTests.builtins))
            chown(folder + "/Deployfile.swift", 65534, 65534)
            await #expect(try sandbox.bash("swiftfab ", in: folder) == CompletionTests.builtins)
            await #expect(sandbox.run(["swiftfab", "__complete", "zsh", "the"], in: folder) == (0, ""))
            #expect(!FileManager.default.fileExists(atPath: marker))
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache) == cached)
        }

        /// One Tab, typed into each shell through a terminal: what it makes of the line.
        @Test(arguments: ["bash", "zsh", "fish"]) func realTab(shell: String) async throws {
            let sandbox = try await Self.sandbox.value
            let expected = [
                ("swiftfab dep", "swiftfab deploy "),
                ("swiftfab deploy --st", "swiftfab deploy --stage "),
                ("swiftfab --env=pro", "swiftfab --env=production "),
                ("swiftfab -e production -H web1.example.com,", "swiftfab -e production -H web1.example.com,db1.example.com "),
                ("swiftfab logs -f gr", "swiftfab logs -f green "),
                (#"swiftfab greet "it"#, #"swiftfab greet "it's me" "#),
                ("swiftfab greet a", "swiftfab greet a:b "),
                ("swiftfab -f Dep", "swiftfab -f Deployfile.swift "),
                ("swiftfab restore --from-local=Dep", "swiftfab restore --from-local=Deployfile.swift "),
            ]
            let tabbed = try await sandbox.tab(shell, expected.map(\.0), in: sandbox.project)
            for ((typed, line), result) in zip(expected, tabbed) { #expect(result.line == line, "\(shell): \(typed)") }
        }

        @Test func zshListsWhatIsAmbiguousAndLoadsFromFpath() async throws {
            let sandbox = try await Self.sandbox.value
            let listed = try await sandbox.tab("zsh", ["swiftfab -e ", "swiftfab -R ", "swiftfab logs "], in: sandbox.project)
            #expect(listed[0].listed.contains("production") && listed[0].listed.contains("staging"), "\(listed[0].listed)")
            #expect(listed[1].listed.contains("db") && listed[1].listed.contains("web"), "\(listed[1].listed)")
            #expect(CompletionTests.which.allSatisfy(listed[2].listed.contains), "\(listed[2].listed)")
            // Saved as _swiftfab in $fpath: the first Tab loads it and completes.
            await #expect(try sandbox.tab("zsh", ["swiftfab dep"], in: sandbox.project, fpath: true).map(\.line) == ["swiftfab deploy "])
            await #expect(try sandbox.tab("zsh", ["swiftfab chec"], in: sandbox.bare).map(\.line) == ["swiftfab check "])
        }
    }
}

extension CompletionTests.Shells {
    /// A project with its Deployfile compiled, a folder without one, and a
    /// home of the shells' own: the scripts, the cache, no rc files or history.
    struct Sandbox: Sendable {
        let project: String
        let bare: String
        let home: String
        let environment: [String: String]

        struct Failure: Error, CustomStringConvertible {
            let description: String
            init(_ description: String) { self.description = description }
        }

        init() async throws {
            (project, bare, home) = (try TempDir.make().path, try TempDir.make().path, try TempDir.make().path)
            let binaries = URL(fileURLWithPath: CLITests.binary).deletingLastPathComponent().path
            environment = ["PATH": binaries + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                           "SWIFTFAB_CACHE_DIR": home + "/cache", "HOME": home, "XDG_CONFIG_HOME": home + "/config",
                           "XDG_DATA_HOME": home + "/data", "XDG_CACHE_HOME": home + "/cache", "HISTFILE": "",
                           "TERM": "xterm", "NO_COLOR": "1"]
            // Else fish starts making completions from man pages at its first start.
            try FileManager.default.createDirectory(atPath: home + "/data/fish/generated_completions", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: home + "/zsh", withIntermediateDirectories: true)
            for shell in ["bash", "zsh", "fish"] {
                let script = await run(["swiftfab", "completions", shell], in: bare)
                guard script.status == 0 else { throw Failure("swiftfab completions \(shell): \(script.output)") }
                try script.output.write(toFile: self.script(shell), atomically: true, encoding: .utf8)
            }
            try Self.driver.write(toFile: home + "/tab.zsh", atomically: true, encoding: .utf8)
            try Self.deployfile.write(toFile: project + "/Deployfile.swift", atomically: true, encoding: .utf8)
            let compiled = await run(["swiftfab", "--list"], in: project)
            guard compiled.status == 0 else { throw Failure("the Deployfile does not compile:\n\(compiled.output)") }
        }

        /// CompletionTests.deployfile, as a file.
        static let deployfile = """
            import SwiftFab
            import SwiftFabRecipes

            let app = BlueGreenConfig(app: "shop", command: "run", runtime: .process)
            let deployfile = Deployfile("shop") {
                Environment("staging", default: true) { Host("st1.example.com", roles: .web, .db) }
                Environment("production") {
                    Host("web1.example.com", roles: .web)
                    Host("db1.example.com", roles: .db)
                }
                BlueGreen(app)
                Logs(ServerConfig(app: app))
                Postgres(PostgresConfig(database: "shop"))
                Task("greet", "Say hello", on: .web, options: [
                    .argument("name", help: "Who", choices: ["world", "it's me", "a:b"]),
                    .option("tone", value: "TONE", help: "How", kind: .choice(["warm", "dry"])),
                ]) { _ in Run("echo hello") }
            }

            """

        /// Runs an interactive shell on a terminal (zsh's zpty): types the set-up
        /// (which binds ^T to print the line between @@< and >@@END, then says
        /// READY), then each line with a Tab and ^T, and prints what came back.
        static let driver = #"""
            zmodload zsh/zpty || exit 2
            zpty shell "$1" || exit 2
            zpty -w shell "$2"
            zpty -r shell out '*READY*' || exit 3
            for line in "${@:3}"; do
                zpty -w -n shell "$line"$'\t\x14'
                zpty -r shell out '*@@END*' || exit 3
                print -r -- "${out//$'\r'/}"
                zpty -w -n shell $'\x15'
            done
            zpty -d shell
            """#

        func script(_ shell: String) -> String { home + (shell == "zsh" ? "/zsh/_swiftfab" : "/swiftfab." + shell) }

        func run(_ arguments: [String], in dir: String) async -> (status: Int32, output: String) {
            await Shell.runLocally(["/bin/sh", "-c", #"cd "$0" && exec "$@""#, dir] + arguments, environment: environment)
        }

        /// COMPREPLY of `_swiftfab` called as bash calls it at a Tab after `line`:
        /// COMP_WORDS as bash splits the line (at blanks, and at = and : too: give
        /// `words` then), $2 the text bash replaces (`typed`: after the last = or :
        /// or an opening quote). `bare`: COMP_WORDS and COMP_CWORD only. A request
        /// for file names shows as its compopt call.
        func bash(_ line: String, words: [String]? = nil, cword: Int? = nil, point: Int? = nil, typed: String? = nil,
                  bare: Bool = false, in dir: String) async throws -> [String] {
            let words = words ?? line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            let cword = cword ?? words.count - 1
            var code = "source \(Shell.quote(script("bash")))\ncompopt() { printf 'compopt %s\\n' \"$*\"; }\n"
            code += "COMP_WORDS=(\(Shell.join(words))) COMP_CWORD=\(cword)\n"
            if bare {
                code += "_swiftfab\n"
            } else {
                code += "COMP_LINE=\(Shell.quote(line)) COMP_POINT=\(point ?? line.utf8.count)\n"
                code += "_swiftfab swiftfab \(Shell.quote(typed ?? words[cword])) \(Shell.quote(cword > 0 ? words[cword - 1] : ""))\n"
            }
            code += "for reply in \"${COMPREPLY[@]}\"; do printf '%s\\n' \"$reply\"; done\n"
            let result = await run(["bash", "--norc", "--noprofile", "-c", code], in: dir)
            guard result.status == 0 else { throw Failure("bash (exit \(result.status)): \(result.output)") }
            return result.output.split(separator: "\n").map(String.init)
        }

        /// The words `complete -C LINE` lists in fish with the script loaded.
        func fish(_ line: String, in dir: String) async throws -> [String] {
            let result = await run(["fish", "--no-config", "-c", "source $argv[1]; and complete -C $argv[2]", script("fish"), line], in: dir)
            guard result.status == 0 else { throw Failure("fish (exit \(result.status)): \(result.output)") }
            return result.output.split(separator: "\n").map { String($0.prefix { $0 != "\t" }) }
        }

        /// Each line typed into an interactive `shell` with a Tab: the line the Tab
        /// made, and what was listed on the way (zsh lists what is ambiguous).
        func tab(_ shell: String, _ lines: [String], in dir: String, fpath: Bool = false) async throws -> [(line: String, listed: String)] {
            let setup: String, command: String
            switch shell {
            case "bash":
                command = "bash --norc --noprofile -i"
                setup = "source \(Shell.quote(script(shell))); bind -x '\"\\C-t\": printf \"@@<%s>@@END\\n\" \"$READLINE_LINE\"'"
            case "zsh":
                command = "zsh -f -i"
                setup = (fpath ? "fpath=(\(Shell.quote(home + "/zsh")) $fpath); " : "") + "autoload -U compinit; compinit -u -D; "
                    + (fpath ? "" : "source \(Shell.quote(script(shell))); ")
                    + #"show() { print -r -- "@@<$BUFFER>@@END"; }; zle -N show; bindkey '^T' show"#
            default:
                command = "fish --no-config --private -i"
                setup = "source \(Shell.quote(script(shell))); bind \\ct 'echo \"@@<\"(commandline)\">@@END\"'"
            }
            // The timeout only ends a shell that stopped answering.
            let result = await run(["timeout", "120", "zsh", "-f", home + "/tab.zsh", command, setup + "; echo RE\"\"ADY"] + lines, in: dir)
            var results: [(line: String, listed: String)] = []
            for piece in result.output.components(separatedBy: ">@@END").dropLast() {
                guard let start = piece.range(of: "@@<", options: .backwards) else { continue }
                results.append((String(piece[start.upperBound...]), String(piece[..<start.lowerBound])))
            }
            guard result.status == 0, results.count == lines.count else {
                throw Failure("\(shell) on a terminal (exit \(result.status)):\n\(result.output)")
            }
            return results
        }
    }
}
