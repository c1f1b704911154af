/// `--dry-run`: the exact commands each host would run, secrets redacted,
/// without connecting. Hosts whose plans are identical are shown together.
public struct PlanPrinter: Sendable {
    public init() {}

    /// One line per plan item, indented for nested ones.
    public func lines(_ items: [PlanItem], indent: String = "") -> [String] {
        items.flatMap { item -> [String] in
            switch item {
            case .command(let command): return [indent + "$ " + command.display]
            case .local(let command): return [indent + "local $ " + command.display]
            case .upload(let local, let remote, let mode):
                return [indent + "upload \(local) -> \(remote)" + (mode.map { " (mode \(String($0, radix: 8)))" } ?? "")]
            case .download(let remote, let local): return [indent + "download \(remote) -> \(local)"]
            case .when(let condition, let then, let otherwise):
                var text = [indent + "if $ " + condition.display + " succeeds:"] + lines(then, indent: indent + "    ")
                if !otherwise.isEmpty { text += [indent + "otherwise:"] + lines(otherwise, indent: indent + "    ") }
                return text
            case .dynamic(let description, _):
                return [indent + "dynamic: \(description) (its commands depend on what the host answers)"]
            case .invoked(let name, let inner): return [indent + "invoke \(name):"] + lines(inner, indent: indent + "    ")
            }
        }
    }

    /// The plan of a task as events: a header, then each group of hosts and its lines.
    public func emit(_ plan: TaskPlan, to sink: any EventSink) {
        sink.emit(.taskStarted(task: plan.task.name, hosts: plan.hosts.map(\.address), strategy: plan.task.strategy.description))
        var groups: [(hosts: [String], lines: [String])] = []
        for host in plan.hosts {
            let text = lines(plan.items[host] ?? [])
            if let index = groups.firstIndex(where: { $0.lines == text }) {
                groups[index].hosts.append(host.address)
            } else {
                groups.append(([host.address], text))
            }
        }
        for group in groups {
            for line in group.lines { sink.emit(.planned(task: plan.task.name, hosts: group.hosts, step: line)) }
        }
        sink.emit(.taskFinished(task: plan.task.name, ok: true, duration: 0))
    }
}
