/// A value in a block that does not take it: a step at the Deployfile's top
/// level, a Task inside a Task, a plain string among the steps or the hosts.
/// The compiler says "no exact matches in call to static method
/// 'buildExpression'" or "cannot convert value of type ... to 'Step'".
struct MisplacedValue {
    enum Block { case deployfile, steps, hosts }

    var block: Block
    /// The compiler's name for the value's type.
    var type: String
    var compilerWords: String

    init?(_ error: CompilerDiagnostic) {
        let message = error.message
        if message.contains("no exact matches in call to static method 'buildExpression'") {
            let notes = error.notes.map(\.message)
            guard let got = notes.lazy.compactMap({ DeployfileMistakes.quoted($0, after: "(got '") }).first else { return nil }
            func expects(_ type: String) -> Bool { notes.contains { $0.contains("value of type '\(type)'") } }
            if expects("TaskDefinition") { block = .deployfile }
            else if expects("Step") { block = .steps }
            else if expects("HostDefinition") { block = .hosts }
            else { return nil }
            type = got
            compilerWords = "\(message) (got '\(got)')"
        } else if let got = DeployfileMistakes.quoted(message, after: "cannot convert value of type '"),
                  let expected = DeployfileMistakes.quoted(message, after: "to expected argument type '") {
            switch expected {
            case "Step": block = .steps
            case "HostDefinition": block = .hosts
            default: return nil
            }
            type = got
            compilerWords = message
        } else {
            return nil
        }
    }

    func explanation(at offset: Int, in text: DeployfileSource) -> DeployfileMistakes.Explanation {
        DeployfileMistakes.Explanation(message: message(for: text.quote(at: offset)), detail: "compiler: " + compilerWords)
    }

    func message(for what: String) -> String {
        // Swift's concurrency Task is `Task { ... }`, the Deployfile's is `Task("name", "description") { ... }`.
        let concurrencyTask = type.hasPrefix("Task<")
        let declarations = ["Hook", "Environment", "SettingDefinition", "EnvFileDefinition", "DeployfileItem"]
        switch block {
        case .deployfile:
            if type == "Step" { return "\(what) is a step, and steps go inside a Task: Task(\"name\", \"description\") { \(what) }" }
            if type == "HostDefinition" { return "\(what) goes inside an Environment: Environment(\"production\") { \(what) }" }
            if concurrencyTask { return "\(what) is Swift's concurrency Task; a Deployfile's task is " + DeployfileVocabulary.taskForm }
            return "\(what) is not a Deployfile item: Deployfile { } holds \(DeployfileVocabulary.items)"
                + (type == "()" ? "; code that runs on the hosts goes in a Dynamic step" : "")
        case .steps:
            if type == "String" { return "a plain string is not a step: to run it, write Run(\(what))" }
            if type == "TaskDefinition" {
                return "a Task cannot be inside another Task: declare it in Deployfile { } and run it from this one with Invoke(\"name\")"
            }
            if concurrencyTask {
                return "\(what) is Swift's concurrency Task, not a step: Swift code that runs during the task goes in Dynamic(\"why\") { host in ... }"
            }
            if type == "HostDefinition" { return "\(what) goes inside an Environment, not a Task" }
            if declarations.contains(type) { return "\(what) goes in Deployfile { }, not inside a Task" }
            return "\(what) is not a step: a task's block holds steps (\(DeployfileVocabulary.steps))"
                + (type == "()" ? "; Swift code that runs during the task goes in Dynamic(\"why\") { host in ... }" : "")
        case .hosts:
            if type == "String" { return "a plain string is not a host: write Host(\(what))" }
            if type == "Step" { return "\(what) is a step, and steps go inside a Task; an Environment holds Host(...)s" }
            return "\(what) is not a host: an Environment holds Host(...)s"
        }
    }
}
