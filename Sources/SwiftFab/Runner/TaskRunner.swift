import Foundation

/// Runs a task (and its hooks) over the selected hosts: batches by the
/// task's strategy, hosts in parallel up to `parallel`, each host's plan
/// items in order. Reports everything as events; returns true when every
/// host of every task succeeded.
public struct TaskRunner: Sendable {
    public var deployfile: Deployfile
    public var environment: String
    public var hosts: [HostDefinition]
    public var settings: ResolvedSettings
    public var sink: any EventSink
    public var pool: ConnectionPool
    public var local: any Backend = LocalBackend()
    public var parallel: Int = 50
    /// Overrides each task's own failure policy when set.
    public var failurePolicy: FailurePolicy?

    public init(deployfile: Deployfile, environment: String, hosts: [HostDefinition], settings: ResolvedSettings,
                sink: any EventSink, pool: ConnectionPool) {
        self.deployfile = deployfile
        self.environment = environment
        self.hosts = hosts
        self.settings = settings
        self.sink = sink
        self.pool = pool
    }

    /// The run this runner plans for (dry run, output, the Deployfile's folder).
    public var context = RunContext(deployfileDirectory: FileManager.default.currentDirectoryPath)
    /// What tasks said about the run's exit code.
    public let outcome = RunOutcome()

    var planner: Planner { Planner(deployfile: deployfile, settings: settings, run: context) }

    /// Where the run's events go: `sink`, with the settings' secrets and the
    /// env-file values hidden in every text (commands, output, notes, errors).
    var events: any EventSink { RedactingSink(sink, redactor: Redactor(settings.secrets)) }

    /// The task and its hooks, all planned before anything runs.
    public func plans(_ task: String, arguments: TaskArguments) throws -> [TaskPlan] {
        try planner.plans(task, arguments: arguments, hosts: hosts)
    }

    /// Plans, then runs `task` with positional arguments; true when every host succeeded.
    public func run(_ task: String, arguments: [String] = []) async -> Bool {
        do {
            guard let definition = deployfile.task(named: task) else { throw planner.unknownTask(task) }
            return await run(task, plans: try plans(task, arguments: planner.positional(arguments, for: definition))).ok
        } catch {
            events.emit(.note(host: nil, text: "swiftfab: \(error)"))
            return false
        }
    }

    /// Runs `task`'s plans (its own and its hooks') in order; a failed one
    /// stops the run: later hooks do not run, OnFailure hooks do.
    public func run(_ task: String, plans: [TaskPlan]) async -> RunReport {
        let start = monotonicNow()
        let asked = plans.first { $0.task.name == task }
        events.emit(.runStarted(task: task, environment: environment, hosts: hosts.map(\.address), dryRun: context.dryRun))
        var ok = true
        for plan in plans where !(await execute(plan)) {
            ok = false
            await runFailureHooks(of: plan.task.name, on: plan.hosts)
            // A failed Before/After hook fails the task asked for too: its OnFailure hooks run as well.
            if let asked, plan.task.name != task { await runFailureHooks(of: task, on: asked.hosts) }
            break
        }
        await pool.closeAll()
        events.emit(.runFinished(ok: ok, duration: monotonicNow() - start))
        return RunReport(ok: ok, exitCode: outcome.exitCode(ok: ok))
    }

    /// The OnFailure hooks of `task`, on every host the task was meant for,
    /// whatever each did; their own failures are reported, never hidden.
    private func runFailureHooks(of task: String, on hosts: [HostDefinition]) async {
        for hook in deployfile.hooks where hook.when == .failed && hook.target == task {
            do {
                let plan = try planner.plan(hook.task, hosts: hosts)
                _ = await execute(plan)
            } catch {
                events.emit(.note(host: nil, text: "swiftfab: \(error)"))
            }
        }
    }

    /// Runs one task's plan; false when any host failed or was skipped.
    public func execute(_ plan: TaskPlan) async -> Bool {
        let start = monotonicNow()
        let name = plan.task.name
        events.emit(.taskStarted(task: name, hosts: plan.hosts.map(\.address), strategy: plan.task.strategy.description))
        if plan.hosts.isEmpty {
            let roles = plan.task.roles.map(\.name).joined(separator: ", ")
            events.emit(.note(host: nil, text: "  no host in \(environment) has the role \(roles): nothing to do"))
        }
        let policy = failurePolicy ?? plan.task.failurePolicy
        let stop = StopFlag()
        // Ctrl-C from here on stops this task: no host or batch starts after it.
        let interrupts = Interrupt.count
        var allOK = true
        let batches = plan.batches
        for (index, batch) in batches.enumerated() {
            if batches.count > 1 && plan.task.strategy != .sequential && !stop.isSet {
                let canary = index == 0 && { if case .canary = plan.task.strategy { return true } else { return false } }()
                events.emit(.note(host: nil, text: "  batch \(index + 1) of \(batches.count)\(canary ? " (canary)" : ""): "
                                  + batch.map(\.address).joined(separator: ", ")))
            }
            let outcomes = await Fanout.map(batch, parallel: parallel) { host in
                let ok = await runHost(host, plan.items[host] ?? [], task: plan.task, arguments: plan.arguments, stop: stop, policy: policy,
                                       interrupts: interrupts)
                if !ok, let code = plan.task.hostFailureExitCode { outcome.raise(to: code) }
                return ok
            }
            if outcomes.contains(false) {
                allOK = false
                // Rolling and sequential runs never start another batch after a failure.
                if policy == .failFast || plan.task.strategy != .parallel { stop.set() }
            }
            if allOK, index < batches.count - 1, let gate = plan.task.betweenBatches, !stop.isSet,
               !(await passes(gate, batch: batch, plan: plan, interrupts: interrupts)) {
                allOK = false
                stop.set()
            }
        }
        let context = AfterAllHostsContext(raise: { [outcome] in outcome.raise(to: $0) }, settle: { [outcome] in outcome.conclude($0, task: name) },
                                           say: { [events] in events.emit(.note(host: nil, text: $0)) },
                                           structured: { [events] in events.emit(.record(host: nil, kind: $0, fields: $1)) })
        for summary in plan.summaries {
            for line in await summary(context) { events.emit(.result(host: nil, text: line)) }
        }
        events.emit(.taskFinished(task: name, ok: allOK, duration: monotonicNow() - start, exitCode: outcome.exitCode(ok: allOK),
                                  verdict: outcome.verdict(of: name)))
        return allOK
    }

    /// The pause and check between two batches; false stops the rollout.
    private func passes(_ gate: BatchGate, batch: [HostDefinition], plan: TaskPlan, interrupts: Int) async -> Bool {
        events.emit(.note(host: nil, text: "  before the next batch: " + gate.description))
        if gate.pause > 0 && !context.dryRun {
            let end = monotonicNow() + gate.pause
            while monotonicNow() < end {
                if Interrupt.count > interrupts { return false }
                try? await _Concurrency.Task.sleep(for: .milliseconds(min(100, max(1, Int((end - monotonicNow()) * 1000)))))
            }
        }
        guard let check = gate.check else { return true }
        let results = await Fanout.map(batch, parallel: parallel) { host -> Bool in
            do {
                let backend = try await pool.backend(for: host)
                let executor = HostExecutor(host: host, backend: backend, local: local, sink: events, settings: settings, arguments: plan.arguments,
                                            outcome: outcome)
                try await executor.perform(.dynamic("check before the next batch", check))
                return true
            } catch {
                let message = (error as? SwiftFabError).map { var e = $0; e.host = nil; return e.description } ?? "\(error)"
                events.emit(.note(host: host.address, text: "failed the check before the next batch, so no more hosts start: " + message))
                return false
            }
        }
        return !results.contains(false)
    }

    private func runHost(_ host: HostDefinition, _ items: [PlanItem], task definition: TaskDefinition, arguments: TaskArguments,
                         stop: StopFlag, policy: FailurePolicy, interrupts: Int) async -> Bool {
        let start = monotonicNow()
        let task = definition.name
        if stop.isSet || Interrupt.count > interrupts {
            events.emit(.hostFinished(task: task, host: host.address, status: "skipped", ok: false, duration: 0,
                                      message: stop.isSet ? "not started: an earlier host failed" : "not started: interrupted"))
            return false
        }
        var backend: (any Backend)?
        let details = definition.recordsHistory ? HistoryDetails() : nil
        do {
            let connected = try await pool.backend(for: host)
            backend = connected
            var executor = HostExecutor(host: host, backend: connected, local: local, sink: events, settings: settings, arguments: arguments,
                                        outcome: outcome)
            executor.history = details
            try await executor.perform(items)
            await record(details, of: definition, arguments, on: connected, host: host, outcome: "ok", since: start)
            events.emit(.hostFinished(task: task, host: host.address, status: "ok", ok: true, duration: monotonicNow() - start, message: nil))
            return true
        } catch {
            if policy == .failFast { stop.set() }
            let message = Secret.redact((error as? SwiftFabError).map { var e = $0; e.host = nil; return e.description } ?? "\(error)", settings.secrets)
            let status = (error as? SwiftFabError)?.kind == .interrupted ? "stopped" : "failed"
            if let backend {
                let why = message.split(separator: "\n").first.map(String.init) ?? ""
                await record(details, of: definition, arguments, on: backend, host: host, outcome: status + ": " + why, since: start)
            }
            events.emit(.hostFinished(task: task, host: host.address, status: status, ok: false, duration: monotonicNow() - start,
                                      message: message))
            return false
        }
    }

    /// Appends the host's run of a task that records history; a history
    /// that cannot be written is said, and fails nothing.
    private func record(_ details: HistoryDetails?, of task: TaskDefinition, _ arguments: TaskArguments, on backend: any Backend,
                        host: HostDefinition, outcome: String, since start: Double) async {
        guard let details else { return }
        var words = [task.name] + arguments.values
        for (name, value) in arguments.options.sorted(by: { $0.key < $1.key }) { words.append("--" + name + (value.isEmpty ? "" : "=" + value)) }
        let entry = HistoryEntry(time: HistoryEntry.now(), who: Operator.name, project: deployfile.name + "/" + environment,
                                 command: Shell.join(words.map { Secret.redact($0, settings.secrets) }), detail: details.get(host.address),
                                 outcome: outcome, seconds: monotonicNow() - start)
        let executor = HostExecutor(host: host, backend: backend, local: local, sink: events, settings: settings, arguments: arguments)
        let written = try? await executor.run(HistoryLog.append(entry, to: deployfile.historyFile), on: backend, local: false, quietOutput: true, detail: true)
        if written?.succeeded != true {
            events.emit(.note(host: host.address, text: "warning: this run is not in the host's history (\(deployfile.historyFile)): \(written?.summary ?? "no connection")"))
        }
    }
}

/// Set once any host fails under fail-fast; read before each host starts.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

/// How a run ended: whether every host succeeded, and the exit status.
public struct RunReport: Sendable, Equatable {
    public var ok: Bool
    public var exitCode: Int32
}

/// The exit code tasks raise while they run (a health report's warnings,
/// a task whose failed host means "unhealthy"): the highest raise wins.
/// A task's verdict counts only when every host succeeded: a failure is
/// never reported as, say, "changes pending".
public final class RunOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var floor: Int32 = 0
    private var verdicts: [String: Verdict] = [:]
    public init() {}
    public func raise(to code: Int32) { lock.withLock { floor = max(floor, code) } }
    public var exitCode: Int32 { lock.withLock { floor } }

    /// How `task` ended, said once its hosts are done (the last word wins).
    public func conclude(_ verdict: Verdict, task: String) { lock.withLock { verdicts[task] = verdict } }
    public func verdict(of task: String) -> Verdict? { lock.withLock { verdicts[task] } }

    /// The run's exit code: 1 at least when a host failed, else the highest raise or verdict.
    public func exitCode(ok: Bool) -> Int32 {
        lock.withLock { ok ? max(floor, verdicts.values.map(\.exitCode).max() ?? 0) : max(1, floor) }
    }
}
