import Foundation

/// The compiler's errors about a Deployfile as plain messages at its own
/// lines: the usual mistakes with the DSL (a wrong label, a step outside a
/// task, a misspelled name...) said in the DSL's words, with the compiler's
/// own words under them. Other errors are shown as the compiler printed them.
enum DeployfileMistakes {
    struct Explanation: Equatable {
        var message: String
        /// A second line: the compiler's message, or why it reads as it does.
        var detail: String?
        /// A Task(...) the compiler took for Swift's concurrency Task: its
        /// other errors within these bytes are echoes of this one.
        var covers: ClosedRange<Int>? = nil
    }

    /// The report under "Deployfile.swift does not compile:", two spaces in,
    /// and whether it leaves some of the compiler's messages out.
    /// `full` adds every message the compiler printed.
    static func explain(_ output: String, source: Data, deployfile: String, main: String, full: Bool = false)
        -> (text: String, leavesOut: Bool) {
        let (diagnostics, loose) = CompilerDiagnostic.parse(output)
        let text = DeployfileSource(source)
        let errors = diagnostics.filter { $0.severity == "error" }
        var lines = loose.filter { !$0.contains(main) }.map { "  " + $0 }
        lines += explainMain(errors.filter { $0.file == main }, text: text, deployfile: deployfile)

        // In the file's order: the compiler's is its own checking order.
        let ordered = errors.filter { $0.file != main }.enumerated().sorted {
            ($0.element.file != deployfile ? 1 : 0, $0.element.line, $0.element.column, $0.offset)
                < ($1.element.file != deployfile ? 1 : 0, $1.element.line, $1.element.column, $1.offset)
        }.map(\.element)
        let own = ordered.map { error in
            (error, offset: text.offset(line: error.line, column: error.column),
             explanation: error.file == deployfile ? explanation(for: error, in: text) : nil)
        }
        let echoes = own.compactMap { $0.explanation?.covers }
        var said = Set<String>()
        var leavesOut = false
        for (error, offset, explanation) in own {
            leavesOut = leavesOut || explanation != nil
            if explanation?.covers == nil, let offset, echoes.contains(where: { $0.contains(offset) }) { continue }
            guard let explanation else {
                lines += error.lines.map { "  " + $0 }
                continue
            }
            let line = "  \(error.location): \(explanation.message)"
            guard said.insert(line).inserted else { continue }
            lines.append(line)
            if let detail = explanation.detail { lines.append("      " + detail) }
        }
        let everything = diagnostics.filter { $0.file != main }.flatMap(\.lines)
        if lines.isEmpty { lines = (everything.isEmpty ? output.split(separator: "\n").map(String.init) : everything).map { "  " + $0 } }
        if full && !everything.isEmpty {
            lines.append("  the compiler's messages in full:")
            lines += everything.map { "    " + $0 }
        }
        return (lines.joined(separator: "\n"), leavesOut && !full)
    }

    /// Errors in the generated main.swift: it only names `deployfile`.
    static func explainMain(_ errors: [CompilerDiagnostic], text: DeployfileSource, deployfile: String) -> [String] {
        if errors.contains(where: { $0.message.contains("cannot find 'deployfile' in scope") }) {
            return ["  it must declare `let deployfile = Deployfile(\"name\") { ... }` at the top level"]
        }
        guard let error = errors.first else { return [] }
        let place = text.deployfileDeclaration().map { "\(deployfile):\(text.line(of: $0)):\(text.column(of: $0)): " } ?? ""
        return ["  \(place)`deployfile` must be a Deployfile: `let deployfile = Deployfile(\"name\") { ... }`",
                "      compiler: " + error.message]
    }

    /// The plain message for one error of the Deployfile, when it is a mistake we know.
    static func explanation(for error: CompilerDiagnostic, in text: DeployfileSource) -> Explanation? {
        guard let offset = text.offset(line: error.line, column: error.column) else { return nil }
        let message = error.message
        if let task = text.call(at: offset), task.name == "Task", task.parentheses != nil,
           ["Task<", "TaskPriority", "'Success'", "_Concurrency"].contains(where: error.allText.contains) {
            return Explanation(message: TaskForms.problem(in: task, text: text),
                               detail: "(the compiler took this Task(...) for Swift's concurrency Task, which has the same name: its messages speak of that Task)",
                               covers: task.span)
        }
        if let name = quoted(message, after: "cannot find '") ?? quoted(message, after: "cannot find type '"), message.hasSuffix("in scope") {
            return unknownName(name, at: offset, in: text)
        }
        if message == "expressions are not allowed at the top level" {
            return topLevel(at: offset, in: text)
        }
        if let builder = quoted(message, after: "cannot be used with result builder '") ?? quoted(message, after: "in the body of result builder '") {
            return controlFlow(in: builder, message: message, at: offset, in: text)
        }
        if let role = quoted(message, after: "type 'Role' has no member '") {
            return Explanation(message: "there is no role `.\(role)` predefined: write any other role as a string, \"\(role)\"",
                               detail: "compiler: " + message)
        }
        if let placed = MisplacedValue(error) {
            return placed.explanation(at: offset, in: text)
        }
        if let call = text.call(at: offset), let plain = ArgumentMistake.explain(error, call: call) {
            return Explanation(message: plain, detail: "compiler: " + message)
        }
        return nil
    }

    /// `cannot find 'Runn' in scope`: the DSL name meant, or the missing recipes import.
    static func unknownName(_ name: String, at offset: Int, in text: DeployfileSource) -> Explanation? {
        let importsRecipes = text.imports("SwiftFabRecipes")
        if DeployfileVocabulary.recipeNames.contains(name) && !importsRecipes {
            return Explanation(message: "\(name) is a recipe: add `import SwiftFabRecipes` at the top of the Deployfile",
                               detail: "compiler: cannot find '\(name)' in scope")
        }
        // A lowercase name that is not called is the Deployfile's own variable, not a DSL word.
        let called = text.call(at: offset).map { $0.name == name } ?? false
        guard name.first?.isUppercase == true || called, let near = DeployfileVocabulary.nearest(to: name) else { return nil }
        let needsImport = DeployfileVocabulary.recipeNames.contains(near) && !importsRecipes
        return Explanation(message: "cannot find '\(name)' in scope; did you mean \(near)?" + (needsImport ? " (it needs `import SwiftFabRecipes`)" : ""))
    }

    /// A statement outside any declaration: a Deployfile only declares.
    static func topLevel(at offset: Int, in text: DeployfileSource) -> Explanation {
        let statement = text.quote(at: offset)
        let word = text.word(at: offset) ?? ""
        if DeployfileVocabulary.dslNames.contains(word) || DeployfileVocabulary.recipeNames.contains(word) {
            return Explanation(message: "\(statement) is outside Deployfile { }: move it inside `let deployfile = Deployfile(\"name\") { ... }`",
                               detail: "compiler: expressions are not allowed at the top level")
        }
        return Explanation(message: "\(statement) cannot stand at the top level of a Deployfile, which only declares (let, func, struct): "
                               + "code that runs on the hosts goes in a Dynamic step",
                           detail: "compiler: expressions are not allowed at the top level")
    }

    /// `while`, `return`... inside a result builder's block.
    static func controlFlow(in builder: String, message: String, at offset: Int, in text: DeployfileSource) -> Explanation? {
        let block: String
        if builder.contains("DeployfileBuilder") { block = "Deployfile { }" }
        else if builder.contains("<Step>") || builder.contains("StepBuilder") { block = "a task's block" }
        else if builder.contains("<HostDefinition>") || builder.contains("HostBuilder") { block = "an Environment's block" }
        else { return nil }
        let word = text.word(at: offset).map { "`\($0)`" } ?? "this statement"
        return Explanation(message: "\(word) cannot be used in \(block), which takes if, if let, switch and for-in: "
                               + "compute values before `let deployfile`, or in a Dynamic step",
                           detail: "compiler: " + message)
    }

    /// The text between quotes after `prefix` in `message`: `name` in "cannot find 'name' in scope".
    static func quoted(_ message: String, after prefix: String) -> String? {
        guard let start = message.range(of: prefix), let end = message[start.upperBound...].firstIndex(of: "'") else { return nil }
        return String(message[start.upperBound..<end])
    }
}
