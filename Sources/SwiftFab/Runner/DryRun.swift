/// Plans a task and its hooks and reports them as `planned` events, without
/// connecting to anything.
extension TaskRunner {
    public func dryRun(_ task: String, arguments: [String] = []) -> Bool {
        sink.emit(.runStarted(task: task, environment: environment, hosts: hosts.map(\.address), dryRun: true))
        do {
            for name in try planner.runOrder(task) {
                PlanPrinter().emit(try planner.plan(name, arguments: name == task ? arguments : [], hosts: hosts), to: sink)
            }
            sink.emit(.runFinished(ok: true, duration: 0))
            return true
        } catch {
            sink.emit(.note(host: nil, text: "swiftfab: \(error)"))
            sink.emit(.runFinished(ok: false, duration: 0))
            return false
        }
    }
}
