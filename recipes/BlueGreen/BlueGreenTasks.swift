import Foundation
import SwiftFab

/// The blue/green recipe's tasks: `deploy [REVISION] [--stage] [--allow-dirty]
/// [--lock-wait S]`, `promote`, `rollback`, `releases`, `live`, `status`, `unlock`.
/// Deploys and rollbacks go `batchSize` hosts at a time (default 1) and stop at the first failure.
public func BlueGreen(_ given: BlueGreenConfig) -> DeployfileItem {
    // Relative paths are the Deployfile's, wherever swiftfab was started.
    var resolved = given
    let base = ProcessInfo.processInfo.environment["SWIFTFAB_DEPLOYFILE_DIR"] ?? FileManager.default.currentDirectoryPath
    if !resolved.repository.hasPrefix("/") { resolved.repository = base + "/" + resolved.repository }
    if let envFile = resolved.envFile, !envFile.hasPrefix("/") { resolved.envFile = base + "/" + envFile }
    let config = resolved
    let deployer = BlueGreenDeployer(config: config)
    let commands = deployer.commands
    let layout = config.layout
    return Recipe {
        if let envFile = config.envFile { HideValues(ofEnvFile: envFile) }
        TaskDefinition(name: "deploy", description: "Deploy a revision (default HEAD) blue/green: health-checked, no dropped requests",
                       roles: config.roles, strategy: .rolling(config.batchSize), failurePolicy: .failFast) { arguments in
            if RunStatus.dryRun {
                do {
                    return DeployPreview(config: config, deployer: deployer).steps(try DeployArguments(arguments.values), who: DeployArguments.deployer)
                } catch {
                    return [Dynamic("\(error)") { _ in throw error }]
                }
            }
            return [Dynamic("deploy \(layout.app) blue/green") { host in
                let options = try DeployArguments(arguments.values)
                let repository = try GitRepository(discoveringFrom: config.repository)
                if !options.allowDirty {
                    let dirty = try repository.dirtyFiles()
                    guard dirty.isEmpty else {
                        throw SwiftFabError(.invalidInput, "the working tree has uncommitted changes: \(dirty.prefix(10).joined(separator: ", "))\(dirty.count > 10 ? ", ..." : "")",
                                            hint: "commit them (a deploy ships commits, never the working tree), or pass --allow-dirty to deploy the last commit anyway")
                    }
                }
                // One commit for the whole rollout, even if the branch moves meanwhile.
                let pinned = try RevisionPins.shared.pin(options.revision, in: repository)
                let outcome = try await deployer.deploy(on: host.backend, repository: repository, revision: pinned,
                                                        deployer: DeployArguments.deployer, lockWait: options.lockWait,
                                                        stage: options.stage, note: host.note)
                host.note((options.stage ? "staged " : "deployed ") + "\(outcome.release) in slot \(outcome.slot.rawValue)")
            }]
        }
        TaskDefinition(name: "promote", description: "Switch traffic to the release staged by deploy --stage",
                       roles: config.roles, strategy: .rolling(config.batchSize), failurePolicy: .failFast) { _ in
            if RunStatus.dryRun { return DeployPreview(config: config, deployer: deployer).promoteSteps(who: DeployArguments.deployer) }
            return [Dynamic("promote the staged \(layout.app) release") { host in
                let outcome = try await deployer.promote(on: host.backend, deployer: DeployArguments.deployer, note: host.note)
                host.note("promoted \(outcome.release): slot \(outcome.slot.rawValue) is live")
            }]
        }
        TaskDefinition(name: "rollback", description: "Switch traffic back to the previous release (instant when its slot is warm)",
                       roles: config.roles, strategy: .rolling(config.batchSize), failurePolicy: .failFast) { _ in
            if RunStatus.dryRun { return DeployPreview(config: config, deployer: deployer).rollbackSteps(who: DeployArguments.deployer) }
            return [Dynamic("roll \(layout.app) back") { host in
                let start = monotonicNow()
                let outcome = try await deployer.rollback(on: host.backend, deployer: DeployArguments.deployer, note: host.note)
                host.note("rolled back to \(outcome.release) in \(Format.seconds(monotonicNow() - start))")
            }]
        }
        TaskDefinition(name: "releases", description: "List the releases on each host: which is live, which is the rollback target",
                       roles: config.roles) { _ in
            [Dynamic("list \(layout.app) releases") { host in
                let live = try await host.output(commands.liveSlot())
                var slots: [String: String] = [:]
                for slot in Slot.allCases { if let name = try? await deployer.release(in: slot, on: host.backend) { slots[name] = slot.rawValue } }
                let listing = try await host.output(Command(shell: """
                    cd \(layout.releases) 2>/dev/null || exit 0; for r in $(ls -1 | sort -r); do \
                    printf '%s\\t' "$r"; cat "$r/\(ReleaseShipper.metadataFile)" 2>/dev/null || echo '{}'; done
                    """))
                if listing.isEmpty { host.note("no releases yet"); return }
                for line in listing.split(separator: "\n") {
                    let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
                    let metadata = parts.count > 1 ? try? JSONDecoder().decode(ReleaseShipper.Metadata.self, from: Data(parts[1].utf8)) : nil
                    let slot = slots[parts[0]]
                    let role = slot == nil ? "" : (slot == live ? " LIVE (\(slot!))" : " standby (\(slot!))")
                    let what = metadata.map { " \($0.revision.prefix(7)) \($0.subject) by \($0.deployer) at \($0.deployedAt)" } ?? ""
                    host.note(parts[0] + role + what)
                }
            }]
        }
        TaskDefinition(name: "live", description: "Show the release and revision each host serves (also after a failed deploy)",
                       roles: config.roles) { _ in
            [Dynamic("which \(layout.app) release is live") { host in
                guard let live = Slot(rawValue: try await host.output(commands.liveSlot())) else { host.note("live: nothing"); return }
                guard let release = try await deployer.release(in: live, on: host.backend) else { host.note("live: slot \(live.rawValue), no release recorded"); return }
                let json = try await host.output(Command(shell: "cat \(layout.release(release) + "/" + ReleaseShipper.metadataFile) 2>/dev/null || true"))
                let metadata = try? JSONDecoder().decode(ReleaseShipper.Metadata.self, from: Data(json.utf8))
                host.note("live: \(release) in slot \(live.rawValue)" + (metadata.map { " (\($0.revision.prefix(7)) \($0.subject))" } ?? ""))
            }]
        }
        // After a failed rollout, say what every host serves now.
        OnFailure("deploy", run: "live")
        OnFailure("promote", run: "live")
        OnFailure("rollback", run: "live")
        TaskDefinition(name: "status", description: "Show the live slot, what each slot runs, their processes and the deploy lock",
                       roles: config.roles) { _ in
            [Dynamic("\(layout.app) status") { host in
                let live = try await host.output(commands.liveSlot())
                host.note("live: " + (live.isEmpty ? "none" : "slot \(live)"))
                for slot in Slot.allCases {
                    let release = try await host.output(commands.slotRelease(slot))
                    host.note("\(slot.rawValue): " + (release.isEmpty ? "-" : release))
                }
                for line in try await host.output(commands.processes()).split(separator: "\n") { host.note(String(line)) }
                if let holder = DeployLock.parse(try await host.output(DeployLock(layout: layout).inspect())) {
                    host.note("deploy lock held by \(holder.who) (revision \(holder.revision), since \(holder.since))")
                }
            }]
        }
        TaskDefinition(name: "unlock", description: "Remove a stale deploy lock (after a deploy that died)", roles: config.roles) { _ in
            [Run("cat \(layout.lock + "/holder") 2>/dev/null | head -1 | sed 's/^/removing the lock of: /'; rm -rf \(layout.lock)")]
        }
    }
}

/// `deploy [REVISION] [--revision R] [--allow-dirty] [--lock-wait S]`
struct DeployArguments {
    var revision = "HEAD"
    var allowDirty = false
    var lockWait: Double = 0
    var stage = false

    init(_ values: [String]) throws {
        var rest = values[...]
        while let value = rest.popFirst() {
            switch value {
            case "--": continue
            case "--allow-dirty": allowDirty = true
            case "--stage": stage = true
            case "--revision": revision = try Self.next(&rest, for: value)
            case "--lock-wait":
                guard let seconds = Double(try Self.next(&rest, for: value)) else { throw SwiftFabError.invalidInput("--lock-wait takes seconds") }
                lockWait = seconds
            case let flag where flag.hasPrefix("-"):
                throw SwiftFabError.invalidInput("deploy does not know \(flag)", hint: "deploy [REVISION] [--stage] [--allow-dirty] [--lock-wait SECONDS]")
            default: revision = value
            }
        }
    }

    static func next(_ rest: inout ArraySlice<String>, for flag: String) throws -> String {
        guard let value = rest.popFirst() else { throw SwiftFabError.invalidInput("\(flag) needs a value") }
        return value
    }

    /// Who deploys, as the lock and the release metadata record it.
    static var deployer: String {
        let user = ProcessInfo.processInfo.environment["USER"] ?? getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "unknown"
        return user + "@" + ProcessInfo.processInfo.hostName
    }
}

/// The commit each revision named in this run resolved to, the first time.
final class RevisionPins: @unchecked Sendable {
    static let shared = RevisionPins()
    private let lock = NSLock()
    private var pins: [String: String] = [:]

    func pin(_ revision: String, in repository: GitRepository) throws -> String {
        let key = repository.root + "\u{0}" + revision
        if let sha = lock.withLock({ pins[key] }) { return sha }
        let sha = try repository.resolve(revision).sha
        lock.withLock { pins[key] = sha }
        return sha
    }
}
