/// The names a Deployfile is written with, for "did you mean" answers and
/// for the forms of Task the compiler cannot explain. (A test checks each
/// name is still declared by the DSL or the recipes.)
enum DeployfileVocabulary {
    /// What `import SwiftFab` brings.
    static let dslNames = [
        "Deployfile", "Environment", "Host", "Role", "Task", "Before", "After", "OnFailure",
        "Setting", "Settings", "EnvFile", "HideValues", "Recipe", "TaskOption", "Argument", "Flag", "Option",
        "Run", "Sudo", "Upload", "Download", "Local", "Within", "WithEnvironment", "When", "Invoke", "Dynamic", "Word",
    ]

    /// What `import SwiftFabRecipes` brings.
    static let recipeNames = [
        "BlueGreen", "BlueGreenConfig", "ContainerRuntime", "Postgres", "PostgresConfig", "Retention",
        "Provision", "ServerConfig", "NginxSite", "ServerTasks", "Doctor", "Logs",
    ]

    /// What goes in `Deployfile { }`.
    static let items = "Environment, Task, Setting, EnvFile, Before, After, OnFailure and recipes"

    /// What goes in a task's block.
    static let steps = "Run, Sudo, Upload, Download, Local, Within, WithEnvironment, When, Invoke, Dynamic"

    /// Task's labelled arguments, in the order they are written
    /// (`arguments:` and `options:` are two forms of the last one).
    static let taskLabels = ["on", "once", "strategy", "failurePolicy", "arguments", "options"]

    static let taskForm = #"Task("name", "description", on: roles, once:, strategy:, failurePolicy:, arguments: or options:) { steps }"#

    /// The DSL or recipe name nearest to a mistyped one (case aside), when it is near enough to be meant.
    static func nearest(to name: String) -> String? {
        let limit = name.count <= 3 ? 1 : 2
        let scored = (dslNames + recipeNames).map { ($0, EditDistance.between($0.lowercased(), name.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= limit else { return nil }
        return best.0
    }

    /// The Task label nearest to a mistyped one.
    static func nearestTaskLabel(to label: String) -> String? {
        let scored = taskLabels.map { ($0, EditDistance.between($0.lowercased(), label.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }
}
