/// What is wrong with a Task(...) that matches none of the DSL's forms. The
/// compiler cannot say: it reads such a call as Swift's concurrency Task.
enum TaskForms {
    static func problem(in call: DeployfileSource.Call, text: DeployfileSource) -> String {
        let known = DeployfileVocabulary.taskLabels
        let positional = call.arguments.prefix { $0.label == nil }.count
        let labels = call.arguments.compactMap(\.label)
        if positional < 2, let first = labels.first, !known.contains(first) {
            return "Task's name and description are written without labels: Task(\"deploy\", \"Deploy the app\") { ... }"
        }
        if let unknown = labels.first(where: { !known.contains($0) }) {
            let near = DeployfileVocabulary.nearestTaskLabel(to: unknown).map { "did you mean `\($0):`?" }
            return "Task has no argument `\(unknown):`; " + (near ?? "it takes on:, once:, strategy:, failurePolicy:, and arguments: or options:")
        }
        if positional < 2 { return "Task needs a name and a description: Task(\"name\", \"description\") { ... }" }
        if positional > 2 { return "Task takes two strings, its name and its description, then labelled arguments: " + DeployfileVocabulary.taskForm }
        if let twice = labels.first(where: { label in labels.filter { $0 == label }.count > 1 }) { return "Task is given `\(twice):` twice" }
        if labels.contains("arguments") && labels.contains("options") { return "Task takes arguments: or options:, not both" }
        // arguments: and options: are the same place.
        let places = labels.map { min(known.firstIndex(of: $0)!, known.firstIndex(of: "arguments")!) }
        if let late = places.indices.dropFirst().first(where: { places[$0] < places[$0 - 1] }) {
            return "Task's `\(labels[late]):` goes before `\(labels[late - 1]):` (the order is: " + DeployfileVocabulary.taskForm + ")"
        }
        guard let block = call.closure else { return "Task needs its steps: Task(\"name\", \"description\") { Run(\"...\") }" }
        // Such a statement makes the block plain Swift, which fits only the concurrency Task.
        if let statement = text.controlFlowStatement(in: block) {
            return "Task's block uses `\(statement.keyword)` (line \(text.line(of: statement.offset))), which a task's block cannot: "
                + "it takes if, if let, switch and for-in; other Swift goes in a Dynamic step"
        }
        return "this Task(...) matches none of the Deployfile's forms, " + DeployfileVocabulary.taskForm + ": look at the values' types"
    }
}
