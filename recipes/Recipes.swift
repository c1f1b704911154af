import SwiftFab

/// Recipes: functions that return tasks and steps built from SwiftFab's
/// values, so their plans are unit-testable.
/// - `BlueGreen(...)` (in `BlueGreen/`): deploy, promote, rollback, releases, live, status, unlock.
/// - `Postgres(...)` (in `Postgres/`): backup, backups, restore, prune-backups.
/// - `ServerTasks(ServerConfig(...))` (in `Provision/`, `Doctor/`, `Logs/`): provision, doctor, logs;
///   or each alone: `Provision(...)`, `Doctor(...)`, `Logs(...)`.
public enum Recipes {
    /// The recipes this library ships, by name.
    public static let available: [String] = ["BlueGreen", "Postgres", "Provision", "Doctor", "Logs", "ServerTasks"]
}
