import Foundation

/// A call's arguments gone wrong (a label, a missing or extra argument,
/// the order), said with the name of the call as written.
enum ArgumentMistake {
    static func explain(_ error: CompilerDiagnostic, call: DeployfileSource.Call) -> String? {
        let message = error.message
        let callee = call.name + (call.parentheses == nil ? "" : "(...)")
        func quoted(after prefix: String) -> String? { DeployfileMistakes.quoted(message, after: prefix) }

        if let label = quoted(after: "extra argument '") { return "\(callee) has no argument `\(label):`" }
        if message.hasPrefix("extra arguments at positions") { return "\(callee) is given more arguments than it takes" }
        if message.hasPrefix("incorrect argument label"), let have = quoted(after: "(have '"), let expected = quoted(after: "expected '") {
            return "\(callee): " + relabelling(have: labels(have), expected: labels(expected))
        }
        if let label = quoted(after: "extraneous argument label '") { return "\(callee) takes that argument without a label: drop `\(label)`" }
        if let names = quoted(after: "extraneous argument labels '") {
            return "\(callee) takes those arguments without labels: drop " + labels(names).filter { $0 != "_" }.map { "`\($0):`" }.joined(separator: ", ")
        }
        if let label = quoted(after: "missing argument label '") { return "\(callee): write `\(label)` before that argument" }
        if let parameter = quoted(after: "missing argument for parameter '") { return "\(callee) needs its `\(parameter):` argument" }
        if message.hasPrefix("missing argument for parameter #"), let number = Int(message.dropFirst(32).prefix { $0.isNumber }) {
            let type = placeholder(in: error.lines)
            if type?.contains("->") == true { return "\(call.name) needs its block: \(call.name)(...) { ... }" }
            // A ShellString is written as a string.
            return "\(callee) needs its \(ordinal(number)) argument" + (type.map { " (a \($0 == "ShellString" ? "String" : $0))" } ?? "")
        }
        if message.hasPrefix("missing arguments for parameters '") {
            let names = message.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 }.map { "`\($0.element):`" }
            return "\(callee) needs its " + names.joined(separator: ", ") + " arguments"
        }
        if message.hasPrefix("argument '"), let first = quoted(after: "argument '"), let second = quoted(after: "must precede argument '") {
            return "\(callee): `\(first):` goes before `\(second):`"
        }
        return nil
    }

    /// `_:usr:` is ["_", "usr"].
    static func labels(_ signature: String) -> [String] {
        signature.split(separator: ":", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// What to change, label by label: `usr:` to `user:`, drop `name:`, write `run:`.
    static func relabelling(have: [String], expected: [String]) -> String {
        let fixes = zip(have, expected).filter { $0 != $1 }.map { have, expected in
            if expected == "_" { return "drop the label `\(have):`" }
            if have == "_" { return "write `\(expected):` before that argument" }
            return "`\(have):` should be `\(expected):`"
        }
        return fixes.isEmpty ? "its labels should be (\(expected.map { $0 + ":" }.joined()))" : fixes.joined(separator: "; ")
    }

    /// The type in the compiler's suggested fix: `<#String#>`.
    static func placeholder(in lines: [String]) -> String? {
        for line in lines.dropFirst() {
            guard let start = line.range(of: "<#"), let end = line.range(of: "#>", range: start.upperBound..<line.endIndex) else { continue }
            return String(line[start.upperBound..<end.lowerBound])
        }
        return nil
    }

    static func ordinal(_ number: Int) -> String {
        let words = ["first", "second", "third", "fourth", "fifth"]
        return number >= 1 && number <= words.count ? words[number - 1] : "#\(number)"
    }
}
