/// `--dry-run`: the run itself, against backends that run nothing (see
/// `DryRunBackend`). Each task's own code decides what it would send, so
/// what a dry run shows cannot drift from what a real run does.
extension TaskRunner {
    /// This runner, with every host (and this machine) replaced by a `DryRunBackend`.
    public func dryRunning() -> TaskRunner {
        var copy = self
        copy.pool = ConnectionPool { host in DryRunBackend(host: host.address) }
        copy.local = DryRunBackend(host: "local")
        copy.context.dryRun = true
        return copy
    }

    /// Plans and dry-runs `task` with positional arguments; true when it would go through.
    public func dryRun(_ task: String, arguments: [String] = []) async -> Bool {
        await dryRunning().run(task, arguments: arguments)
    }
}
