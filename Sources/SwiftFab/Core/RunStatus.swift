import Foundation

/// What a task may tell the command line about the whole run: a task whose
/// result is a verdict rather than a failure (a health report with warnings)
/// raises the exit code; it can read whether output is JSON (for monitors)
/// and whether this is a dry run.
public enum RunStatus {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var floor: Int32 = 0
    nonisolated(unsafe) private static var json = false
    nonisolated(unsafe) private static var dry = false

    /// The run exits with at least `code` (the highest raise wins).
    public static func raiseExitCode(to code: Int32) {
        lock.withLock { floor = max(floor, code) }
    }

    public static var exitCodeFloor: Int32 { lock.withLock { floor } }

    /// True under `--dry-run`: a task may then plan its exact commands
    /// instead of a `Dynamic` step, so the printed plan shows them.
    public static var dryRun: Bool {
        get { lock.withLock { dry } }
        set { lock.withLock { dry = newValue } }
    }

    /// True when `--json` was given: write machine-readable results.
    public static var jsonOutput: Bool {
        get { lock.withLock { json } }
        set { lock.withLock { json = newValue } }
    }
}
