import SwiftFab

/// Recipes: functions that return tasks and steps built from SwiftFab's
/// values, so their plans are unit-testable. `BlueGreen/` holds the deploy
/// recipe's building blocks (release layout, shipping releases from git,
/// the deploy lock, retention); its tasks come next.
public enum Recipes {
    /// The recipes this library ships, by name, as each lands.
    public static let available: [String] = []
}
