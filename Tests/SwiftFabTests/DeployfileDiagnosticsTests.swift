import Foundation
import Testing
@testable import SwiftFab

/// A Deployfile's mistakes read as plain messages at its own lines: first
/// through the real `swiftfab` (one compile per mistake), then the
/// translation itself on the compiler's output as it prints it.
@Suite(.serialized) struct DeployfileDiagnosticsTests {
    static let cache = (try? TempDir.make().path) ?? "/tmp/swiftfab-diagnostics-cache"

    /// `swiftfab --list` (or `arguments`) beside `deployfile`.
    func swiftfab(_ deployfile: String, _ arguments: [String] = ["--list"], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let dir = try TempDir.make().path
        try deployfile.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        let script = "cd \(Shell.quote(dir)) && exec " + Shell.join([CLITests.binary] + arguments)
        return await Shell.runLocally(["/bin/sh", "-c", script],
                                environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": Self.cache].merging(environment) { _, new in new })
    }

    /// A plain message at `line`, and not the compiler's wall.
    func expectPlain(_ run: (status: Int32, output: String), line: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1, "\(run.output)", sourceLocation: sourceLocation)
        #expect(run.output.contains("Deployfile.swift does not compile:"), "\(run.output)", sourceLocation: sourceLocation)
        let at = run.output.split(separator: "\n").first { $0.contains("Deployfile.swift:\(line):") }
        #expect(at?.contains(message) == true, "\(run.output)", sourceLocation: sourceLocation)
        #expect(!run.output.contains("main.swift") && !run.output.contains("buildExpression("), "\(run.output)", sourceLocation: sourceLocation)
    }

    // MARK: through swiftfab

    @Test(.sandbox) func aWrongLabelInTaskIsNotSwiftsConcurrencyTask() async throws {
        let source = """
            import SwiftFab

            let deployfile = Deployfile("shop") {
                Task("uptime", desc: "Show load") {
                    Run("uptime")
                }
            }
            """
        let run = try await swiftfab(source)
        expectPlain(run, line: 4, "Task's name and description are written without labels")
        #expect(run.output.contains("for Swift's concurrency Task, which has the same name"))
        #expect(!run.output.contains("'Success'") && !run.output.contains("TaskPriority"), "\(run.output)")
        #expect(run.output.contains("-v shows all of its messages"))

        // -v: the compiler's messages in full, under the plain one.
        let verbose = try await swiftfab(source, ["-v", "--list"])
        #expect(verbose.status == 1)
        #expect(verbose.output.contains("Deployfile.swift:4:5: Task's name and description are written without labels"), "\(verbose.output)")
        #expect(verbose.output.contains("the compiler's messages in full:"))
        #expect(verbose.output.contains("Deployfile.swift:4:5: error: no exact matches in call to"), "\(verbose.output)")
    }

    @Test(.sandbox) func aMissingArgumentOfARecipeConfig() async throws {
        let run = try await swiftfab("""
            import SwiftFab
            import SwiftFabRecipes

            let deployfile = Deployfile("shop") {
                Environment("production") { Host("web1", roles: .web) }
                BlueGreen(BlueGreenConfig(app: "shop"))
            }
            """)
        expectPlain(run, line: 6, "BlueGreenConfig(...) needs its `command:` argument")
        #expect(run.output.contains("compiler: missing argument for parameter 'command' in call"))
    }

    @Test(.sandbox) func aStepAtTheTopLevelOfTheDeployfile() async throws {
        let run = try await swiftfab("""
            import SwiftFab

            let deployfile = Deployfile("shop") {
                Environment("production") { Host("web1") }
                Run("uptime")
            }
            """)
        expectPlain(run, line: 5, "Run(...) is a step, and steps go inside a Task")
    }

    @Test(.sandbox) func aPlainStringAmongATasksSteps() async throws {
        let run = try await swiftfab("""
            import SwiftFab

            let deployfile = Deployfile("shop") {
                Task("uptime", "Show load") {
                    Run("date")
                    "uptime"
                }
            }
            """)
        expectPlain(run, line: 6, #"a plain string is not a step: to run it, write Run("uptime")"#)
    }

    @Test(.sandbox) func aMisspelledDSLName() async throws {
        let run = try await swiftfab("""
            import SwiftFab

            let deployfile = Deployfile("shop") {
                Tsk("uptime", "Show load") {
                    Run("uptime")
                }
            }
            """)
        expectPlain(run, line: 4, "cannot find 'Tsk' in scope; did you mean Task?")
    }

    @Test(.sandbox) func noDeployfileDeclared() async throws {
        let run = try await swiftfab("import SwiftFab\nlet tasks = Deployfile(\"x\") { }\n")
        #expect(run.status == 1)
        #expect(run.output.contains("it must declare `let deployfile = Deployfile(\"name\") { ... }` at the top level"), "\(run.output)")
        #expect(!run.output.contains("main.swift"))
    }

    @Test(.sandbox) func aMissingCompilerIsNotACompileError() async throws {
        let run = try await swiftfab("import SwiftFab\nlet deployfile = Deployfile(\"x\") { }\n", environment: ["SWIFTFAB_SWIFTC": "/nonexistent/swiftc"])
        #expect(run.status == 70, "\(run.output)")
        #expect(run.output.contains("cannot compile the Deployfile: SWIFTFAB_SWIFTC is /nonexistent/swiftc, which does not exist"), "\(run.output)")
        #expect(run.output.contains("hint: point SWIFTFAB_SWIFTC at the swiftc of a Swift 6 toolchain"))
        #expect(!run.output.contains("does not compile"))
    }

    // MARK: the translation, on the compiler's output

    static let deployfile = "/p/Deployfile.swift"
    static let main = "/b/main.swift"

    func explain(_ output: String, source: String, full: Bool = false) -> String {
        DeployfileMistakes.explain(output, source: Data(source.utf8), deployfile: Self.deployfile, main: Self.main, full: full).text
    }

    /// The notes the compiler adds when a value fits none of DeployfileBuilder's buildExpression.
    static func deployfileBuilderNotes(got type: String) -> String {
        ["Environment", "TaskDefinition", "Hook", "SettingDefinition", "EnvFileDefinition", "DeployfileItem", "[DeployfileItem]"]
            .enumerated().map { "/src/SwiftFab/DSL/Deployfile.swift:\(67 + $0.offset):24: note: candidate expects value of type '\($0.element)' for parameter #1 (got '\(type)')\n" }
            .joined()
    }

    @Test func theConcurrencyTasksEchoesBecomeOneMessage() {
        let source = """
            import SwiftFab
            let deployfile = Deployfile("x") {
                Task("a", desc: "b") { Run("true") }
            }
            """
        let output = """
            /p/Deployfile.swift:3:5: error: no exact matches in call to static method 'buildExpression'
                Task("a", desc: "b") { Run("true") }
                ^
            /src/SwiftFab/DSL/Deployfile.swift:67:24: note: candidate expects value of type 'Environment' for parameter #1 (got 'Task<Step, Never>')
                public static func buildExpression(_ environment: Environment) -> [DeployfileItem] { [.environment(environment)] }
                                   ^
            /src/SwiftFab/DSL/Deployfile.swift:68:24: note: candidate expects value of type 'TaskDefinition' for parameter #1 (got 'Task<Step, Never>')
                public static func buildExpression(_ task: TaskDefinition) -> [DeployfileItem] { [.task(task)] }
                                   ^
            /p/Deployfile.swift:3:21: error: extra argument 'desc' in call
                Task("a", desc: "b") { Run("true") }
                    ~~~~~~~~~~~~^~~~~~~~~~~~~~~~~~~~
            """
        let text = explain(output, source: source)
        #expect(text == """
              /p/Deployfile.swift:3:5: Task's name and description are written without labels: Task("deploy", "Deploy the app") { ... }
                  (the compiler took this Task(...) for Swift's concurrency Task, which has the same name: its messages speak of that Task)
            """)
        #expect(explain(output, source: source, full: true).contains("    /p/Deployfile.swift:3:21: error: extra argument 'desc' in call"))
    }

    @Test func whatIsWrongWithATask() {
        /// The message for the Task(...) on line 2 of `call`, as the compiler reports it.
        func problem(_ call: String) -> String {
            let output = "/p/Deployfile.swift:2:5: error: generic parameter 'Success' could not be inferred\n"
            return explain(output, source: "let deployfile = Deployfile(\"x\") {\n    \(call)\n}\n")
        }
        #expect(problem(#"Task("a", "b", on: "web", onces: true) { Run("x") }"#).contains("Task has no argument `onces:`; did you mean `once:`?"))
        #expect(problem(#"Task("a", "b", strategy: .rolling(1), on: .web) { Run("x") }"#).contains("Task's `on:` goes before `strategy:`"))
        #expect(problem(#"Task("a") { Run("x") }"#).contains("Task needs a name and a description"))
        #expect(problem(#"Task("a", "b")"#).contains("Task needs its steps"))
        #expect(problem(#"Task(name: "a", description: "b") { Run("x") }"#).contains("written without labels"))
        #expect(problem(#"Task("a", "b", arguments: "n", options: []) { _ in Run("x") }"#).contains("arguments: or options:, not both"))
        // Commas and parentheses in strings, comments and interpolations are not the call's.
        #expect(problem(#"Task("a, (", "b)", /* once: */ failurPolicy: .failFast) { Run("\("(")") }"#)
            .contains("Task has no argument `failurPolicy:`; did you mean `failurePolicy:`?"))
    }

    @Test func aLoopInATasksBlock() {
        // A loop makes the block plain Swift: the compiler then matches the concurrency Task and never names the loop.
        let source = """
            let deployfile = Deployfile("x") {
                Task("a", "b") {
                    Dynamic("plain Swift") { host in
                        while false { }
                    }
                    Run(["a"].map { x in return x }.joined())
                    if true {
                        while false { }
                    }
                }
            }
            """
        let output = """
            /p/Deployfile.swift:2:5: error: no exact matches in call to initializer 
            /p/Deployfile.swift:2:5: note: candidate has partially matching parameter list (name: String?, executorPreference: (any TaskExecutor)?, priority: TaskPriority?, operation: sending @escaping () async -> ())
            """
        #expect(explain(output, source: source).contains("/p/Deployfile.swift:2:5: Task's block uses `while` (line 8), which a task's block cannot"))
        // When the compiler names the statement itself.
        let returned = explain("/p/Deployfile.swift:3:9: error: cannot use explicit 'return' statement in the body of result builder 'StepBuilder' (aka 'ListBuilder<Step>')\n",
                               source: "let deployfile = Deployfile(\"x\") {\n    Task(\"a\", \"b\") {\n        return []\n    }\n}\n")
        #expect(returned.contains("/p/Deployfile.swift:3:9: `return` cannot be used in a task's block, which takes if, if let, switch and for-in"))
    }

    @Test func labelsAndMissingArguments() {
        func plain(_ line: String, _ error: String, extra: String = "") -> String {
            explain("/p/Deployfile.swift:1:\(error)\n\(extra)", source: line + "\n")
        }
        #expect(plain(#"    Environment("e") { Host("h1", usr: "deploy") }"#, "28: error: incorrect argument label in call (have '_:usr:', expected '_:user:')")
            .contains("/p/Deployfile.swift:1:28: Host(...): `usr:` should be `user:`"))
        #expect(plain(#"    Environment(name: "one") { Host("h") }"#, "16: error: extraneous argument label 'name:' in call")
            .contains("Environment(...) takes that argument without a label: drop `name:`"))
        #expect(plain(#"    Before("a", "b")"#, "11: error: missing argument label 'run:' in call").contains("Before(...): write `run:` before that argument"))
        #expect(plain(#"    Host("a", roles: .web, user: "x")"#, "28: error: argument 'user' must precede argument 'roles'")
            .contains("Host(...): `user:` goes before `roles:`"))
        #expect(plain(#"    Setting("a")"#, "16: error: missing argument for parameter #2 in call", extra: "               , <#String#>\n")
            .contains("Setting(...) needs its second argument (a String)"))
        #expect(plain(#"    Environment("e")"#, "20: error: missing argument for parameter #5 in call",
                      extra: "                   , <#() -> [HostDefinition]#>\n/src/SwiftFab/DSL/Host.swift:44:12: note: 'init(_:default:sshConfig:settings:_:)' declared here\n")
            .contains("Environment needs its block: Environment(...) { ... }"))
        #expect(plain(#"    BlueGreen(BlueGreenConfig(app: "shop", cmd: "./run"))"#, "49: error: extra argument 'cmd' in call")
            .contains("BlueGreenConfig(...) has no argument `cmd:`"))
    }

    @Test func itemsOutOfPlace() {
        let source = """
            import SwiftFab
            print("hello")
            let deployfile = Deployfile("x") {
                print("x")
                Host("h1")
                Task("a", "b") {
                    Task("c", "d") { Run("y") }
                    Task { print("x") }
                    Before("a", run: "b")
                }
                Environment("e") { Run("x") }
            }
            Task("c", "d") { Run("y") }
            """
        let output = """
            /p/Deployfile.swift:2:1: error: expressions are not allowed at the top level
            /p/Deployfile.swift:4:5: error: no exact matches in call to static method 'buildExpression'
            \(Self.deployfileBuilderNotes(got: "()"))\
            /p/Deployfile.swift:5:5: error: no exact matches in call to static method 'buildExpression'
            \(Self.deployfileBuilderNotes(got: "HostDefinition"))\
            /p/Deployfile.swift:7:9: error: cannot convert value of type 'TaskDefinition' to expected argument type 'Step'
            /p/Deployfile.swift:8:9: error: cannot convert value of type 'Task<(), Never>' to expected argument type 'Step'
            /p/Deployfile.swift:9:9: error: cannot convert value of type 'Hook' to expected argument type 'Step'
            /p/Deployfile.swift:11:24: error: no exact matches in call to static method 'buildExpression'
            /src/SwiftFab/DSL/ListBuilder.swift:5:24: note: candidate expects value of type 'HostDefinition' for parameter #1 (got 'Step')
            /p/Deployfile.swift:13:1: error: expressions are not allowed at the top level
            """
        let lines = explain(output, source: source).split(separator: "\n").filter { !$0.hasPrefix("      ") }
        #expect(lines == [
            "  /p/Deployfile.swift:2:1: print(...) cannot stand at the top level of a Deployfile, which only declares (let, func, struct): code that runs on the hosts goes in a Dynamic step",
            "  /p/Deployfile.swift:4:5: print(...) is not a Deployfile item: Deployfile { } holds Environment, Task, Setting, EnvFile, Before, After, OnFailure and recipes; code that runs on the hosts goes in a Dynamic step",
            #"  /p/Deployfile.swift:5:5: Host(...) goes inside an Environment: Environment("production") { Host(...) }"#,
            #"  /p/Deployfile.swift:7:9: a Task cannot be inside another Task: declare it in Deployfile { } and run it from this one with Invoke("name")"#,
            #"  /p/Deployfile.swift:8:9: Task { print("x") } is Swift's concurrency Task, not a step: Swift code that runs during the task goes in Dynamic("why") { host in ... }"#,
            "  /p/Deployfile.swift:9:9: Before(...) goes in Deployfile { }, not inside a Task",
            "  /p/Deployfile.swift:11:24: Run(...) is a step, and steps go inside a Task; an Environment holds Host(...)s",
            #"  /p/Deployfile.swift:13:1: Task(...) is outside Deployfile { }: move it inside `let deployfile = Deployfile("name") { ... }`"#,
        ])
    }

    @Test func misspelledNamesAndTheRecipesImport() {
        let source = """
            import SwiftFab
            let deployfile = Deployfile("x") {
                Task("a", "b") { Runn("x \\(dirr)"); run("y") }
                BlueGreen(app)
            }
            """
        let output = """
            /p/Deployfile.swift:3:22: error: cannot find 'Runn' in scope
                Task("a", "b") { Runn("x \\(dirr)"); run("y") }
                                 ^~~~
            /p/Deployfile.swift:3:32: error: cannot find 'dirr' in scope
                Task("a", "b") { Runn("x \\(dirr)"); run("y") }
                                          ^~~~
            /p/Deployfile.swift:3:41: error: cannot find 'run' in scope
            /p/Deployfile.swift:4:5: error: cannot find 'BlueGreen' in scope
            """
        let text = explain(output, source: source)
        #expect(text.contains("  /p/Deployfile.swift:3:22: cannot find 'Runn' in scope; did you mean Run?\n"))
        #expect(text.contains("  /p/Deployfile.swift:3:41: cannot find 'run' in scope; did you mean Run?\n"))
        // The Deployfile's own (lowercase) variable: nothing to suggest, the compiler's words as they were.
        #expect(text.contains("  /p/Deployfile.swift:3:32: error: cannot find 'dirr' in scope\n      Task(\"a\", \"b\") { Runn("))
        #expect(text.contains("  /p/Deployfile.swift:4:5: BlueGreen is a recipe: add `import SwiftFabRecipes` at the top of the Deployfile"))
    }

    @Test func theGeneratedMainOnlyNamesDeployfile() {
        let missing = "/b/main.swift:2:26: error: cannot find 'deployfile' in scope\nawait DeployfileMain.run(deployfile)\n                         ^\n"
        #expect(explain(missing, source: "import SwiftFab\n") == "  it must declare `let deployfile = Deployfile(\"name\") { ... }` at the top level")
        let wrongType = "/b/main.swift:2:26: error: cannot convert value of type 'Int' to expected argument type 'Deployfile'\nawait DeployfileMain.run(deployfile)\n                         ^\n"
        #expect(explain(wrongType, source: "import SwiftFab\n// let deployfile\nlet deployfile = 3\n") == """
              /p/Deployfile.swift:3:1: `deployfile` must be a Deployfile: `let deployfile = Deployfile("name") { ... }`
                  compiler: cannot convert value of type 'Int' to expected argument type 'Deployfile'
            """)
    }

    @Test func otherErrorsAreShownAsTheCompilerPrintedThem() {
        let output = """
            /p/Deployfile.swift:3:26: error: cannot convert value of type 'String' to expected argument type 'Bool'
                Task("a", "b", once: "yes") { Run("x") }
                                     ^
            /b/main.swift:2:1: warning: something about main
            """
        let text = explain(output, source: "import SwiftFab\nlet deployfile = Deployfile(\"x\") {\n    Task(\"a\", \"b\", once: \"yes\") { Run(\"x\") }\n}\n")
        #expect(text == output.split(separator: "\n").prefix(3).map { "  " + $0 }.joined(separator: "\n"))
        #expect(!DeployfileMistakes.explain(output, source: Data(), deployfile: Self.deployfile, main: Self.main).leavesOut)
    }

    @Test func diagnosticsAreReadFromTheRight() {
        let (diagnostics, loose) = CompilerDiagnostic.parse("""
            warning: a driver's word
            /p/a:b/Deployfile.swift:12:3: error: it: is wrong
                the excerpt
            /src/X.swift:1:2: note: see here
            """)
        #expect(loose == ["warning: a driver's word"])
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.location == "/p/a:b/Deployfile.swift:12:3")
        #expect(diagnostics.first?.message == "it: is wrong")
        #expect(diagnostics.first?.notes == [CompilerDiagnostic.Note(file: "/src/X.swift", message: "see here")])
        #expect(diagnostics.first?.lines.count == 3)
    }

    @Test func aCompilerThatIsNotThere() throws {
        let runtime = DeployfileCompiler.Runtime(modules: "/nowhere", library: "/nowhere")
        func compiler(_ swiftc: String) -> DeployfileCompiler {
            DeployfileCompiler(deployfile: "/p/Deployfile.swift", runtime: runtime, cacheDirectory: "/nowhere", swiftc: swiftc)
        }
        let none = try #require(compiler("swiftc").unavailability(environment: ["PATH": "/nowhere:/also-nowhere"]))
        #expect(none.reason == "there is no swiftc on PATH, nor in /opt/swift/usr/bin or /usr/bin")
        #expect(none.description.contains("hint: install a Swift 6 toolchain and put its usr/bin on PATH, or set SWIFTFAB_SWIFTC"))
        let folder = try TempDir.make().path
        let explicit = try #require(compiler(folder).unavailability(environment: ["SWIFTFAB_SWIFTC": folder]))
        #expect(explicit.reason == "SWIFTFAB_SWIFTC is \(folder), which is not an executable file")
        #expect(compiler(DeployfileCompiler.findSwiftc()).unavailability() == nil)
    }

    /// The names suggested are the DSL's and the recipes' own; Task's labels are Task's.
    @Test func theVocabularyIsDeclared() throws {
        func sources(_ folder: String) throws -> String {
            let root = TestHosts.packageRoot + "/" + folder
            let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            return try files.map { try String(contentsOfFile: root + "/" + $0, encoding: .utf8) }.joined(separator: "\n")
        }
        let dsl = try sources("Sources/SwiftFab"), recipes = try sources("recipes")
        func declares(_ text: String, _ name: String) -> Bool {
            ["func", "struct", "enum", "typealias", "final class", "class"].contains { kind in
                ["(", " ", "<", ":"].contains { text.contains("public \(kind) \(name)\($0)") }
            }
        }
        for name in DeployfileVocabulary.dslNames { #expect(declares(dsl, name), "\(name) is not declared in Sources/SwiftFab") }
        for name in DeployfileVocabulary.recipeNames { #expect(declares(recipes, name), "\(name) is not declared in recipes/") }
        let taskForms = dsl.components(separatedBy: "public func Task(").dropFirst().map { $0.components(separatedBy: "-> TaskDefinition")[0] }
        #expect(!taskForms.isEmpty)
        for label in DeployfileVocabulary.taskLabels {
            #expect(taskForms.contains { $0.contains(" \(label): ") || $0.contains(" \(label) ") }, "Task has no \(label):")
        }
    }
}
