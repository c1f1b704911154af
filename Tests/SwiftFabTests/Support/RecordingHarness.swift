import Foundation
@testable import SwiftFab

/// A runner whose hosts are in-memory recording backends (no network):
/// `prepare` scripts each host's answers. For planner, DSL and recipe tests.
struct RecordingHarness {
    let backends: [String: RecordingBackend]
    let events = EventLog()
    let runner: TaskRunner

    init(_ deployfile: Deployfile, hosts: [HostDefinition] = DSLTests.hosts, settings: ResolvedSettings = ResolvedSettings(),
         answerAssumptions: Bool = false, prepare: (String, RecordingBackend) -> Void = { _, _ in }) {
        var backends: [String: RecordingBackend] = [:]
        for host in hosts {
            let backend = RecordingBackend(host: host.address, answerAssumptions: answerAssumptions)
            prepare(host.address, backend)
            backends[host.address] = backend
        }
        self.backends = backends
        let lookup = backends
        var runner = TaskRunner(deployfile: deployfile, environment: "test", hosts: hosts, settings: settings, sink: events,
                                pool: ConnectionPool { host in lookup[host.address]! })
        runner.local = RecordingBackend(host: "local")
        runner.parallel = 10
        self.runner = runner
    }

    func commands(_ host: String) -> [String] { backends[host]!.commands }
}
