import Foundation
import SwiftFab

/// The blue/green recipe's tasks: `deploy [REVISION] [--stage] [--allow-dirty]
/// [--lock-wait S]`, `promote`, `rollback`, `releases`, `live`, `status`, `unlock`.
/// Deploys, promotes and rollbacks go in batches (one host at a time unless
/// `batch:`/`canary:` say otherwise), each batch checked healthy before the
/// next starts, and stop at the first failure.
public func BlueGreen(_ given: BlueGreenConfig) -> DeployfileItem {
    let layout = given.layout
    let commands = SlotCommands(config: given)
    /// The recipe as this run sees it: the Deployfile's relative paths resolved.
    @Sendable func deployer(_ arguments: TaskArguments) -> BlueGreenDeployer {
        BlueGreenDeployer(config: given.resolvingPaths(in: arguments.run))
    }
    // Between batches: the pause, then the batch's live slots must still answer
    // their health check (and the proxy its check), or no later host starts.
    // A rollback is the way back in a hurry: its batches have no canary and no pause, only the check.
    @Sendable func batchGate(pause: Double) -> BatchGate { BatchGate(pause: pause, description: (pause > 0 ? "wait \(Format.seconds(pause)), then " : "")
                              + "check that the batch's live slots still answer \(given.healthPath)"
                              + (given.proxyCheckURL.map { " and the proxy \($0)" } ?? "")) { host in
        guard let live = Slot(rawValue: try await host.output(commands.liveSlot())) else {
            throw SwiftFabError(.command, host: host.host.address, "no slot is live after its batch")
        }
        let healthy = try await host.run(commands.healthCheck(live, timeout: 5))
        guard healthy.succeeded else {
            throw SwiftFabError(.command, host: host.host.address, "its live slot \(live.rawValue) no longer answers \(given.healthPath) (\(healthy.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)))",
                                hint: "swiftfab rollback -H \(host.host.address) takes it back; the hosts after its batch were not touched")
        }
        if let url = given.proxyCheckURL {
            let proxied = try await host.run(commands.proxyCheck(url, slot: live))
            guard proxied.succeeded else {
                throw SwiftFabError(.command, host: host.host.address, "through the proxy: \(proxied.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))",
                                    hint: "swiftfab rollback -H \(host.host.address) takes it back; the hosts after its batch were not touched")
            }
        }
    } }
    let rolloutGate = batchGate(pause: given.pauseBetweenBatches)
    return Recipe {
        if let envFile = given.envFile { HideValues(ofEnvFile: envFile) }
        TaskDefinition(name: "deploy", description: "Deploy a revision (default HEAD) blue/green: health-checked, no dropped requests",
                       roles: given.roles, strategy: given.strategy, failurePolicy: .failFast,
                       options: [DeployOptions.revision, DeployOptions.stage, DeployOptions.allowDirty, DeployOptions.lockWait]) { arguments in
            let deployer = deployer(arguments)
            // Planned here, before anything connects: the revision must exist and the tree be clean,
            // also for a dry run. One commit for the whole rollout, even if the branch moves meanwhile.
            let repository = try GitRepository(discoveringFrom: deployer.config.repository)
            let commit = try repository.resolve(arguments[DeployOptions.revision])
            let allowDirty = arguments[DeployOptions.allowDirty], stage = arguments[DeployOptions.stage]
            if !allowDirty {
                let dirty = try repository.dirtyFiles()
                guard dirty.isEmpty else {
                    throw SwiftFabError(.local, "the working tree has uncommitted changes: \(dirty.prefix(10).joined(separator: ", "))\(dirty.count > 10 ? ", ..." : "")",
                                        hint: "commit them (a deploy ships commits, never the working tree), or pass --allow-dirty to deploy the last commit anyway")
                }
            }
            let lockWait = arguments[DeployOptions.lockWait]
            return [Dynamic("deploy \(layout.app) blue/green") { host in
                // Opened per host (a repository handle is not shared between threads).
                let repository = try GitRepository(discoveringFrom: deployer.config.repository)
                let outcome = try await deployer.deploy(on: host.backend, repository: repository, revision: commit.sha,
                                                        deployer: Deployer.name, lockWait: lockWait, stage: stage, note: host.note,
                                                        serving: { host.recordInHistory("live: \(layout.app) \($0 ?? "nothing")") })
                host.note((stage ? "staged " : "deployed ") + "\(outcome.release) in slot \(outcome.slot.rawValue)")
                host.recordInHistory((stage ? "staged " : "live: ") + "\(layout.app) \(outcome.release)")
            }]
        }.recordedInHistory().gated(by: rolloutGate)
        TaskDefinition(name: "promote", description: "Switch traffic to the release staged by deploy --stage",
                       roles: given.roles, strategy: given.strategy, failurePolicy: .failFast) { arguments in
            let deployer = deployer(arguments)
            return [Dynamic("promote the staged \(layout.app) release") { host in
                let outcome = try await deployer.promote(on: host.backend, deployer: Deployer.name, note: host.note,
                                                         serving: { host.recordInHistory("live: \(layout.app) \($0 ?? "nothing")") })
                host.note("promoted \(outcome.release): slot \(outcome.slot.rawValue) is live")
                host.recordInHistory("live: \(layout.app) \(outcome.release)")
            }]
        }.recordedInHistory().gated(by: rolloutGate)
        TaskDefinition(name: "rollback", description: "Switch traffic back to the previous release, or to any kept one (instant when its slot is warm)",
                       roles: given.roles, strategy: given.rollbackStrategy, failurePolicy: .failFast,
                       options: [DeployOptions.release]) { arguments in
            let deployer = deployer(arguments)
            // Checked before anything connects; resolved on each host against what it keeps.
            let release = arguments[DeployOptions.release]
            guard let target = RollbackTarget(release) else {
                throw SwiftFabError.invalidInput("rollback: \(String(reflecting: release ?? "")) is not a release", hint: "give " + RollbackTarget.forms)
            }
            return [Dynamic("roll \(layout.app) back") { host in
                let start = monotonicNow()
                let outcome = try await deployer.rollback(on: host.backend, deployer: Deployer.name, to: target, note: host.note)
                host.note("rolled back to \(outcome.release) in \(Format.seconds(monotonicNow() - start))")
                host.recordInHistory("live: \(layout.app) \(outcome.release)")
            }]
        }.recordedInHistory().gated(by: batchGate(pause: 0))
        TaskDefinition(name: "releases", description: "List the releases on each host: which is live, which is the rollback target",
                       roles: given.roles) { arguments in
            let deployer = deployer(arguments)
            return [Dynamic("list \(layout.app) releases") { host in
                let live = try await host.output(commands.liveSlot())
                var slots: [String: String] = [:]
                for slot in Slot.allCases { if let name = try? await deployer.release(in: slot, on: host.backend) { slots[name] = slot.rawValue } }
                let previous = try await host.output(commands.previousRelease())
                let listing = try await host.output(commands.releaseListing())
                if listing.isEmpty { host.result("no releases yet"); return }
                for line in listing.split(separator: "\n") {
                    let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
                    let metadata = parts.count > 1 ? try? JSONDecoder().decode(ReleaseShipper.Metadata.self, from: Data(parts[1].utf8)) : nil
                    let slot = slots[parts[0]]
                    var roles = slot.map { [$0 == live ? "LIVE (\($0))" : "standby (\($0))"] } ?? []
                    if parts[0] == previous { roles.append("rollback target") }
                    let role = roles.isEmpty ? "" : " " + roles.joined(separator: ", ")
                    let what = metadata.map { " \($0.revision.prefix(7)) \($0.subject) by \($0.deployer) at \($0.deployedAt)" } ?? ""
                    host.result(parts[0] + role + what)
                }
            }]
        }
        TaskDefinition(name: "live", description: "Show the release and revision each host serves (also after a failed deploy)",
                       roles: given.roles) { arguments in
            let deployer = deployer(arguments)
            return [Dynamic("which \(layout.app) release is live") { host in
                guard let live = Slot(rawValue: try await host.output(commands.liveSlot())) else { host.result("live: nothing"); return }
                guard let release = try await deployer.release(in: live, on: host.backend) else { host.result("live: slot \(live.rawValue), no release recorded"); return }
                let json = try await host.output(commands.metadata(of: release))
                let metadata = try? JSONDecoder().decode(ReleaseShipper.Metadata.self, from: Data(json.utf8))
                host.result("live: \(release) in slot \(live.rawValue)" + (metadata.map { " (\($0.revision.prefix(7)) \($0.subject))" } ?? ""))
            }]
        }
        // After a failed rollout, say what every host serves now.
        OnFailure("deploy", run: "live")
        OnFailure("promote", run: "live")
        OnFailure("rollback", run: "live")
        TaskDefinition(name: "status", description: "Show the live slot, what each slot runs, their processes and the deploy lock",
                       roles: given.roles) { _ in
            [Dynamic("\(layout.app) status") { host in
                let live = try await host.output(commands.liveSlot())
                host.result("live: " + (live.isEmpty ? "none" : "slot \(live)"))
                for slot in Slot.allCases {
                    let release = try await host.output(commands.slotRelease(slot))
                    host.result("\(slot.rawValue): " + (release.isEmpty ? "-" : release))
                }
                for line in try await host.output(commands.processes()).split(separator: "\n") { host.result(String(line)) }
                if let holder = DeployLock.parse(try await host.output(DeployLock(layout: layout).inspect())) {
                    host.result("deploy lock held by \(holder.who) (revision \(holder.revision), since \(holder.since))")
                }
            }]
        }
        TaskDefinition(name: "unlock", description: "Remove a stale deploy lock (after a deploy that died)", roles: given.roles) { _ in
            [.run(DeployLock(layout: layout).release())]
        }
    }
}

/// Who deploys, as the lock and the release metadata record it.
enum Deployer {
    static var name: String { Operator.name }
}

/// What deploy and rollback take on the command line.
enum DeployOptions {
    static let revision = Argument("revision", help: "What to deploy: a commit, branch or tag of the repository", default: "HEAD")
    static let stage = Flag("stage", help: "Start and health-check the release beside the live one, without switching (then: swiftfab promote)")
    static let allowDirty = Flag("allow-dirty", help: "Deploy the last commit even though the working tree has uncommitted changes")
    static let lockWait = Option("lock-wait", value: "SECONDS", help: "Wait this long for another deploy's lock", default: 0.0, minimum: 0)
    static let release = Argument<String?>("release", help: "Where to go: a release's name, a commit's SHA, or -N (N releases before the live one); default: the previous release")
}
