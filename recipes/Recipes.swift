import SwiftFab

/// Recipes: functions that return tasks and steps built from SwiftFab's
/// values, so their plans are unit-testable.
/// `BlueGreen(...)` (in `BlueGreen/`): deploy, rollback, releases, status, unlock.
public enum Recipes {
    /// The recipes this library ships, by name.
    public static let available: [String] = ["BlueGreen"]
}
