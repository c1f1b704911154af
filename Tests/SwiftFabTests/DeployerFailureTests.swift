import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// The blue/green deployer's failure paths, in memory: a host that answers
/// as a running app would (slot blue live, its predecessor in green), then
/// one thing goes wrong. Whatever happens, traffic moves only to a healthy,
/// checked release, and the lock is released.
@Suite struct DeployerFailureTests {
    static func config(proxyCheck: Bool = true) async throws -> BlueGreenConfig {
        let repository = try await GitTests.makeRepository()
        return BlueGreenConfig(app: "shop", command: "serve {socket}", repository: repository,
                               proxyCheckURL: proxyCheck ? "http://127.0.0.1/version" : nil, runtime: .process)
    }

    /// A deploy of HEAD to a host that answers as a typical one does, after `prepare` scripted what goes wrong.
    static func deploy(_ config: BlueGreenConfig, prepare: (RecordingBackend, SlotCommands) -> Void) async -> (RecordingBackend, Error?) {
        let host = RecordingBackend(host: "web1", answerAssumptions: true)
        let deployer = BlueGreenDeployer(config: config)
        prepare(host, deployer.commands)
        do {
            let repository = try GitRepository(discoveringFrom: config.repository)
            _ = try await deployer.deploy(on: host, repository: repository, revision: "HEAD", deployer: "ci")
            return (host, nil)
        } catch {
            return (host, error)
        }
    }

    static func index(_ host: RecordingBackend, of command: Command) -> Int? { host.commandValues.firstIndex(of: command) }
    static func switched(_ host: RecordingBackend) -> [Command] { host.commandValues.filter { $0.summary?.hasPrefix("switch traffic") == true } }
    static func releasedLock(_ host: RecordingBackend) -> Bool { host.commandValues.last?.summary?.hasPrefix("release the deploy lock") == true }

    @Test func aFailedHealthCheckStopsTheNewSlotAndMovesNoTraffic() async throws {
        let config = try await Self.config()
        let (host, error) = await Self.deploy(config) { host, commands in
            host.respond(to: commands.healthCheck(.green), with: CommandResult(exitStatus: 1, stderr: Data("no healthy answer within 30s\n".utf8)))
        }
        #expect((error as? SwiftFabError)?.message.contains("failed its health check in slot green") == true, "\(String(describing: error))")
        #expect((error as? SwiftFabError)?.message.contains("traffic stays on slot blue") == true)
        #expect(Self.switched(host).isEmpty)
        let commands = SlotCommands(config: config)
        #expect(Self.index(host, of: commands.stop(.green)).map { $0 > Self.index(host, of: commands.healthCheck(.green))! } == true)
        #expect(Self.releasedLock(host))
    }

    @Test func aFailedCheckThroughTheProxySwitchesBack() async throws {
        let config = try await Self.config()
        let commands = SlotCommands(config: config)
        let (host, error) = await Self.deploy(config) { host, commands in
            host.respond(to: commands.proxyCheck("http://127.0.0.1/version", slot: .green),
                         with: CommandResult(exitStatus: 1, stderr: Data("through the proxy answers v1, the new release answers v2\n".utf8)))
        }
        #expect((error as? SwiftFabError)?.message.contains("switched back to slot blue") == true, "\(String(describing: error))")
        // Forth and back, the rollback target restored with it; then the new slot stops.
        // (The switch back is cleanup: the same command text, run even after Ctrl-C.)
        #expect(Self.switched(host).map { try? $0.rendered() } == [commands.switchTo(.green, previous: .set(SlotCommands.assumedRelease[.blue]!)),
                                                                 commands.switchTo(.blue, previous: .set(SlotCommands.assumedRelease[.green]!))].map { try? $0.rendered() })
        #expect(Self.index(host, of: commands.stop(.green)).map { $0 > Self.index(host, of: Self.switched(host)[1])! } == true)
        // Ctrl-C during the check must not leave traffic on the release that failed it.
        #expect(Self.switched(host).last?.onInterrupt == .cleanup)
        #expect(Self.releasedLock(host))
    }

    /// A host whose live slot is blue until the switch command has run, then
    /// what `after` says; the switch itself ends as `switchResult` says.
    static func failedSwitch(_ config: BlueGreenConfig, switchResult: CommandResult, after: String?) async -> (RecordingBackend, Error?, [String?]) {
        let served = Locked<[String?]>([])
        let switchRan = Locked(false)
        let host = RecordingBackend(host: "web1", answerAssumptions: true)
        let deployer = BlueGreenDeployer(config: config)
        let commands = deployer.commands
        host.respond(when: { $0.summary?.hasPrefix("switch traffic") == true }) {
            switchRan.update { $0 = true }
            return switchResult
        }
        host.respond(when: { $0.summary == commands.liveSlot().summary }) {
            CommandResult(exitStatus: 0, stdout: Data((switchRan.current ? (after ?? "") : "blue\n").utf8))
        }
        if after == nil {
            // The connection is lost during the switch: nothing answers afterwards.
            host.fail({ _ in switchRan.current }, with: SwiftFabError(.connection, host: "web1", "the connection was lost"))
        }
        do {
            let repository = try GitRepository(discoveringFrom: config.repository)
            _ = try await deployer.deploy(on: host, repository: repository, revision: "HEAD", deployer: "ci",
                                          serving: { release in served.update { $0.append(release) } })
            return (host, nil, served.current)
        } catch {
            return (host, error, served.current)
        }
    }

    @Test func aSwitchThatMovedTrafficBeforeItFailedKeepsTheNewSlot() async throws {
        let config = try await Self.config()
        let commands = SlotCommands(config: config)
        let (host, error, served) = await Self.failedSwitch(
            config, switchResult: CommandResult(exitStatus: 1, stderr: Data("traffic moved, but the rollback target could not be written\n".utf8)),
            after: "green\n")
        let message = (error as? SwiftFabError)?.message ?? ""
        #expect(message.contains("slot green runs") && message.contains("takes the traffic") && message.contains("rollback target could not be written"), "\(message)")
        #expect(Self.index(host, of: commands.stop(.green)) == nil, "the live slot was stopped")
        #expect(served.count == 1 && served[0]?.isEmpty == false, "\(served)")
        #expect(Self.releasedLock(host))
    }

    @Test func aSwitchThatMovedNothingStopsTheNewSlot() async throws {
        let config = try await Self.config()
        let commands = SlotCommands(config: config)
        let (host, error, served) = await Self.failedSwitch(
            config, switchResult: CommandResult(exitStatus: 1, stderr: Data("mv: cannot move: Read-only file system\n".utf8)), after: "blue\n")
        #expect((error as? SwiftFabError)?.message.contains("cannot switch traffic to slot green") == true, "\(String(describing: error))")
        #expect(Self.index(host, of: commands.stop(.green)) != nil)
        #expect(served.isEmpty)
    }

    @Test func aSwitchCutOffWithTheHostLeavesTheNewSlotRunning() async throws {
        let config = try await Self.config()
        let commands = SlotCommands(config: config)
        let (host, error, served) = await Self.failedSwitch(config, switchResult: CommandResult(exitStatus: 255), after: nil)
        let message = (error as? SwiftFabError)?.message ?? ""
        #expect(message.contains("is unknown") && message.contains("left running"), "\(message)")
        #expect(Self.index(host, of: commands.stop(.green)) == nil)
        #expect(served.isEmpty)
    }

    @Test func aHeldLockStopsTheDeployBeforeAnythingElse() async throws {
        let (host, error) = await Self.deploy(try Self.config()) { host, _ in
            host.respond(to: ".deploy.lock.guard", with: CommandResult(exitStatus: 75, stdout: Data("ann@laptop\nabc1234\nnoon\n".utf8)))
        }
        #expect((error as? SwiftFabError)?.message == "another deploy holds the lock: ann@laptop (revision abc1234, since noon)")
        #expect(host.commandValues.count == 1)
        #expect(host.calls.allSatisfy { if case .upload = $0 { return false } else { return true } })
    }

    @Test func aLostLockMovesNoTraffic() async throws {
        let (host, error) = await Self.deploy(try Self.config()) { host, _ in
            // Another deploy took the lock over meanwhile: this deploy no longer holds it.
            host.respond(to: "sed -n 6p", with: CommandResult(exitStatus: 1))
        }
        #expect((error as? SwiftFabError)?.message.contains("this deploy lost its lock") == true, "\(String(describing: error))")
        #expect(Self.switched(host).isEmpty)
    }

    @Test func aFailedUploadStartsNothingAndReleasesTheLock() async throws {
        let (host, error) = await Self.deploy(try Self.config()) { host, _ in
            host.fail({ if case .upload = $0 { return true } else { return false } },
                      with: SwiftFabError(.transfer, host: "web1", "cannot write /srv/shop/releases/.upload-x.tar: no space left on the device"))
        }
        #expect((error as? SwiftFabError)?.message.contains("no space left") == true)
        #expect(!host.commandValues.contains { $0.summary?.hasPrefix("start release") == true })
        #expect(Self.switched(host).isEmpty && Self.releasedLock(host))
    }

    @Test func aHostThatFailsMidRolloutStopsTheRestAndEveryHostSaysWhatItServes() async throws {
        let config = try await Self.config(proxyCheck: false)
        let deployfile = Deployfile("shop") { BlueGreen(config) }
        let hosts = ["web1", "web2", "web3"].map { HostDefinition(address: $0, roles: [.web]) }
        let harness = RecordingHarness(deployfile, hosts: hosts, answerAssumptions: true) { name, host in
            if name == "web2" {
                host.respond(to: SlotCommands(config: config).healthCheck(.green), with: CommandResult(exitStatus: 1))
            }
        }
        #expect(await harness.runner.run("deploy") == false)
        let deployResults = harness.events.all.compactMap { event -> (String, String)? in
            if case .hostFinished("deploy", let host, let status, _, _, _) = event { return (host, status) } else { return nil }
        }
        #expect(deployResults.map(\.0) == ["web1", "web2", "web3"] && deployResults.map(\.1) == ["ok", "failed", "skipped"], "\(deployResults)")
        // web3 was never touched by the deploy, and `live` ran on all three afterwards.
        let web3 = harness.backends["web3"]!.commandValues.map(\.summary)
        #expect(!web3.contains { $0?.hasPrefix("take the deploy lock") == true })
        for host in hosts.map(\.address) {
            #expect(harness.backends[host]!.commandValues.last?.summary?.hasPrefix("read release") == true, "\(host)")
        }
    }

    @Test func aRollbackToAColdOrReusedStandbyStartsItAndChecksItFirst() async throws {
        let config = try await Self.config()
        let deployer = BlueGreenDeployer(config: config)
        let commands = deployer.commands
        // Cold: slot green runs a release that a failed deploy left, not the rollback target.
        let cold = RecordingBackend(host: "web1", answerAssumptions: true)
        cold.respond(to: commands.slotRelease(.green), with: CommandResult(exitStatus: 0, stdout: Data("20261130T000000Z-ccccccc\n".utf8)))
        _ = try await deployer.rollback(on: cold, deployer: "ci")
        let target = SlotCommands.assumedRelease[.green]!
        let start = try #require(Self.index(cold, of: commands.start(.green, release: target)))
        #expect(start < Self.index(cold, of: commands.healthCheck(.green))!)
        #expect(Self.index(cold, of: commands.healthCheck(.green))! < Self.index(cold, of: Self.switched(cold)[0])!)
        // Reused: the right release, but it no longer answers its health check in time: started again.
        let reused = RecordingBackend(host: "web1", answerAssumptions: true)
        reused.respond(to: commands.healthCheck(.green, timeout: 0.2), with: CommandResult(exitStatus: 1))
        _ = try await deployer.rollback(on: reused, deployer: "ci")
        #expect(Self.index(reused, of: commands.start(.green, release: target)) != nil)
        // Warm: nothing is started, the switch is all.
        let warm = RecordingBackend(host: "web1", answerAssumptions: true)
        _ = try await deployer.rollback(on: warm, deployer: "ci")
        #expect(!warm.commandValues.contains { $0.summary?.hasPrefix("start release") == true })
        #expect(Self.switched(warm) == [commands.switchTo(.green, previous: .set(SlotCommands.assumedRelease[.blue]!))])
    }
}
