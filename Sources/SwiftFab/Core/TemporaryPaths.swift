import Foundation

/// Temporary files and folders of this process (env-file copies, release
/// archives, build folders), removed however the run ends: by their owner
/// when done (`remove`), at a normal exit (atexit), and by an interrupt
/// handler that calls `removeAll` before it exits.
///
/// Not for a raw signal handler (it takes a lock and calls FileManager):
/// call `removeAll` from a dispatch signal source or a task.
public enum TemporaryPaths {
    /// Remembers `path` (a file or a folder) for removal at exit or interrupt.
    public static func register(_ path: String) {
        _ = exitHook
        process.register(path)
    }

    /// Removes `path` now, with all it holds, and forgets it.
    public static func remove(_ path: String) { process.remove(path) }

    /// Removes every registered path. Safe to call more than once.
    public static func removeAll() { process.removeAll() }

    /// The paths not removed yet, oldest first.
    public static var registered: [String] { process.paths }

    static let process = Registry()

    private static let exitHook: Void = { _ = atexit { TemporaryPaths.removeAll() } }()

    /// One set of paths; the process has one, a test can make its own.
    final class Registry: @unchecked Sendable {
        private let lock = NSLock()
        private var registered: [String] = []

        var paths: [String] { lock.withLock { registered } }

        func register(_ path: String) {
            lock.withLock { if !registered.contains(path) { registered.append(path) } }
        }

        func remove(_ path: String) {
            lock.withLock { registered.removeAll { $0 == path } }
            delete(path)
        }

        func removeAll() {
            let paths = lock.withLock {
                defer { registered.removeAll() }
                return registered
            }
            for path in paths.reversed() { delete(path) }
        }

        private func delete(_ path: String) {
            // removeItem deletes a symlink itself, never what it points to.
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
