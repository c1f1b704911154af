import SwiftFab

/// Recipes (blue/green deploy, PostgreSQL backups, provision, doctor) live here.
/// They are functions that return tasks and steps built from SwiftFab's values.
public enum Recipes {
    /// The recipes this library ships, by name; filled as each recipe lands.
    public static let available: [String] = []
}
