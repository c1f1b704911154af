/// Plans a task and its hooks and reports them as `planned` events, without
/// connecting to anything.
extension TaskRunner {
    public func dryRun(_ task: String, arguments: [String] = []) -> Bool {
        do {
            guard let definition = deployfile.task(named: task) else { throw planner.unknownTask(task) }
            dryRun(task, plans: try plans(task, arguments: planner.positional(arguments, for: definition)))
            return true
        } catch {
            sink.emit(.note(host: nil, text: "swiftfab: \(error)"))
            return false
        }
    }

    /// Shows plans made beforehand.
    public func dryRun(_ task: String, plans: [TaskPlan]) {
        sink.emit(.runStarted(task: task, environment: environment, hosts: hosts.map(\.address), dryRun: true))
        for plan in plans { PlanPrinter().emit(plan, to: sink) }
        sink.emit(.runFinished(ok: true, duration: 0))
    }
}
