/// Everything a Deployfile declares: environments and their hosts, tasks,
/// hooks, settings, and the recipes it pulls in.
public struct Deployfile: Sendable {
    public let name: String
    public private(set) var environments: [Environment] = []
    public private(set) var tasks: [TaskDefinition] = []
    public private(set) var hooks: [Hook] = []
    public private(set) var settings: [SettingDefinition] = []
    public private(set) var envFiles: [EnvFileDefinition] = []
    /// Env files whose values are hidden in everything a run shows (an app's env file).
    public private(set) var hiddenEnvFiles: [String] = []
    /// Task names declared twice without `.overriding()`: a mistake `swiftfab check` reports.
    public private(set) var duplicateTasks: [String] = []

    /// Where each host keeps what swiftfab did there (`swiftfab history`):
    /// `~/` is the login user's home.
    public let historyFile: String

    public init(_ name: String, history: String = HistoryLog.defaultFile, @DeployfileBuilder _ content: () -> [DeployfileItem]) {
        self.name = name
        historyFile = history
        add(content())
        // Every project has its history, unless it defines a task of that name.
        if task(named: "history") == nil { tasks.append(HistoryTask.definition(file: history)) }
    }

    private mutating func add(_ items: [DeployfileItem]) {
        for item in items {
            switch item {
            case .environment(let environment): environments.append(environment)
            case .task(let task):
                // A later definition replaces an earlier one, when it says so (`.overriding()`):
                // overriding a recipe's task by accident is reported.
                if tasks.contains(where: { $0.name == task.name }) && !task.overrides { duplicateTasks.append(task.name) }
                tasks.removeAll { $0.name == task.name }
                tasks.append(task)
            case .hook(let hook): hooks.append(hook)
            case .setting(let setting): settings.append(setting)
            case .envFile(let file): envFiles.append(file)
            case .hiddenValues(let path): if !hiddenEnvFiles.contains(path) { hiddenEnvFiles.append(path) }
            case .group(let group): add(group)
            }
        }
    }

    public func task(named name: String) -> TaskDefinition? { tasks.first { $0.name == name } }

    public func environment(named name: String) -> Environment? { environments.first { $0.name == name } }

    /// Task names close to a mistyped one, closest first.
    public func names(near name: String) -> [String] {
        let scored = tasks.map { ($0.name, EditDistance.between($0.name.lowercased(), name.lowercased())) }
        let limit = max(2, name.count / 3)
        let close = scored.filter { $0.1 <= limit || $0.0.hasPrefix(name) || name.hasPrefix($0.0) }
        return close.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
    }
}

/// One declaration inside `Deployfile { ... }`.
public enum DeployfileItem: Sendable {
    case environment(Environment)
    case task(TaskDefinition)
    case hook(Hook)
    case setting(SettingDefinition)
    case envFile(EnvFileDefinition)
    /// An env file whose values the whole run hides (see `HideValues(ofEnvFile:)`).
    case hiddenValues(envFile: String)
    /// Several declarations at once: what a recipe returns.
    case group([DeployfileItem])
}

@resultBuilder
public enum DeployfileBuilder {
    public static func buildExpression(_ environment: Environment) -> [DeployfileItem] { [.environment(environment)] }
    public static func buildExpression(_ task: TaskDefinition) -> [DeployfileItem] { [.task(task)] }
    public static func buildExpression(_ hook: Hook) -> [DeployfileItem] { [.hook(hook)] }
    public static func buildExpression(_ setting: SettingDefinition) -> [DeployfileItem] { [.setting(setting)] }
    public static func buildExpression(_ file: EnvFileDefinition) -> [DeployfileItem] { [.envFile(file)] }
    public static func buildExpression(_ item: DeployfileItem) -> [DeployfileItem] { [item] }
    public static func buildExpression(_ items: [DeployfileItem]) -> [DeployfileItem] { items }
    public static func buildBlock(_ parts: [DeployfileItem]...) -> [DeployfileItem] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [DeployfileItem]?) -> [DeployfileItem] { part ?? [] }
    public static func buildEither(first: [DeployfileItem]) -> [DeployfileItem] { first }
    public static func buildEither(second: [DeployfileItem]) -> [DeployfileItem] { second }
    public static func buildArray(_ parts: [[DeployfileItem]]) -> [DeployfileItem] { parts.flatMap { $0 } }
}

/// Hides the values of an env file (an app's, which a recipe uploads) in all
/// output, notes, errors, plans and the run log, as settings' secrets are.
/// Values under 4 bytes (`1`, `on`) are left alone: hiding them would hide too much.
/// A file that does not exist hides nothing.
public func HideValues(ofEnvFile path: String) -> DeployfileItem {
    .hiddenValues(envFile: path)
}

/// A group of declarations, for recipes: `Recipe { Task(...); After(...) }`.
public func Recipe(@DeployfileBuilder _ content: () -> [DeployfileItem]) -> DeployfileItem {
    .group(content())
}
