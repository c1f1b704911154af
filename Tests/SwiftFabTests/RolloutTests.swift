import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// How rolling tasks spread over a fleet: batches, percentages, a canary,
/// and the gate between batches (as values, and with in-memory hosts).
@Suite struct RolloutTests {
    let hosts = (1...10).map { "web\($0)" }

    @Test func batchesByCountPercentAndCanary() {
        #expect(Strategy.rolling(4).batches(hosts).map(\.count) == [4, 4, 2])
        #expect(Strategy.rollingPercent(25).batches(hosts).map(\.count) == [2, 2, 2, 2, 2])
        #expect(Strategy.rollingPercent(1).batches(hosts).map(\.count) == Array(repeating: 1, count: 10))
        // A canary goes alone; a percentage of the rest is a percentage of the whole fleet.
        #expect(Strategy.canary(1, then: .rollingPercent(50)).batches(hosts).map(\.count) == [1, 5, 4])
        #expect(Strategy.canary(2, then: .parallel).batches(hosts) == [["web1", "web2"], Array(hosts.dropFirst(2))])
        #expect(Strategy.canary(1, then: .rolling(3)).batches(["a"]) == [["a"]])
        #expect(Strategy.canary(1, then: .rolling(3)).batches([String]()).isEmpty)
        #expect(Strategy.canary(1, then: .rollingPercent(25)).description == "a canary of 1, then rolling batches of 25%")
    }

    @Test func theBlueGreenSettingsBecomeTheStrategy() {
        #expect(BlueGreenConfig(app: "a", command: "c").strategy == .rolling(1))
        #expect(BlueGreenConfig(app: "a", command: "c", batchSize: 3).strategy == .rolling(3))
        #expect(BlueGreenConfig(app: "a", command: "c", batch: .percent(25), canary: 1).strategy == .canary(1, then: .rollingPercent(25)))
        #expect(BlueGreenConfig(app: "a", command: "c", batch: .all, canary: 2).strategy == .canary(2, then: .parallel))
    }

    /// Between batches the gate checks the batch just done; a host that fails
    /// it stops the rollout: the next batch never starts.
    @Test func aBatchThatFailsItsGateStopsTheRollout() async {
        let fleet = hosts.prefix(5).map { HostDefinition(address: $0) }
        let deployfile = Deployfile("shop") {
            Environment("prod") { for host in fleet { Host(host.address) } }
            TaskDefinition(name: "ship", description: "Ship", strategy: .canary(1, then: .rolling(2))) { _ in [Run("ship")] }
                .gated(by: BatchGate(description: "check the batch") { host in
                    _ = try await host.run("check")
                    if host.host.address == "web3" { throw SwiftFabError(.command, "web3 turned unhealthy") }
                })
        }
        let harness = RecordingHarness(deployfile, hosts: fleet)
        #expect(await harness.runner.run("ship") == false)
        #expect(harness.commands("web1") == ["ship", "check"])   // the canary, then its check
        #expect(harness.commands("web2") == ["ship", "check"] && harness.commands("web3") == ["ship", "check"])
        #expect(harness.commands("web4").isEmpty && harness.commands("web5").isEmpty)
        let notes = harness.events.all.compactMap { event -> String? in
            if case .note(let host, let text) = event { return (host.map { $0 + " | " } ?? "") + text } else { return nil }
        }
        #expect(notes.contains("  batch 1 of 3 (canary): web1") && notes.contains("  batch 2 of 3: web2, web3"), "\(notes)")
        #expect(notes.contains { $0.hasPrefix("web3 | failed the check before the next batch, so no more hosts start: web3 turned unhealthy") }, "\(notes)")
        #expect(!notes.contains("  batch 3 of 3: web4, web5"))
    }
}
