import Foundation
import SwiftFab

/// Deploys and rolls back one host, blue/green, on any backend.
public struct BlueGreenDeployer: Sendable {
    public let config: BlueGreenConfig
    public let commands: SlotCommands
    let lock: DeployLock
    let shipper: ReleaseShipper

    public init(config: BlueGreenConfig) {
        self.config = config
        commands = SlotCommands(config: config)
        lock = DeployLock(layout: config.layout)
        shipper = ReleaseShipper(layout: config.layout)
    }

    public struct Outcome: Sendable, Equatable {
        public var release: String
        public var slot: Slot
        public var previous: Slot?
        /// The switch alone: from the symlink swap to its confirmation.
        public var switchSeconds: Double
    }

    /// Ships `revision`, starts it in the idle slot, health-checks it and
    /// switches traffic to it. On any failure traffic stays where it was.
    /// With `stage`, stops short of the switch: the release runs, healthy, in the
    /// idle slot (reachable on its socket) until `promote`.
    /// `serving` hears which release takes the traffic whenever that changes
    /// (the switch, a switch back), even when the run is stopped right after
    /// (the host's history must say what is live): nil when nothing is.
    public func deploy(on backend: any Backend, repository: GitRepository, revision: String, deployer: String,
                       lockWait: Double = 0, stage: Bool = false, note: @Sendable (String) -> Void = { _ in },
                       serving: @Sendable (String?) -> Void = { _ in }) async throws -> Outcome {
        try await locked(on: backend, who: deployer, revision: revision, wait: lockWait, note: note) { token in
            try await deployLocked(on: backend, repository: repository, revision: revision, deployer: deployer, stage: stage,
                                   token: token, note: note, serving: serving)
        }
    }

    /// Runs `body` holding the deploy lock, releasing it whatever happens.
    /// `body` gets the lock's token: it checks it still holds the lock before moving traffic.
    private func locked(on backend: any Backend, who: String, revision: String, wait: Double = 0,
                        note: @Sendable (String) -> Void, _ body: (String) async throws -> Outcome) async throws -> Outcome {
        let token = try await lock.take(on: backend, who: who, revision: revision, wait: wait, note: note)
        do {
            let outcome = try await body(token)
            _ = try? await backend.run(lock.release(token: token))
            return outcome
        } catch {
            _ = try? await backend.run(lock.release(token: token))
            throw error
        }
    }

    private func deployLocked(on backend: any Backend, repository: GitRepository, revision: String, deployer: String,
                              stage: Bool, token: String, note: @Sendable (String) -> Void,
                              serving: @Sendable (String?) -> Void) async throws -> Outcome {
        let live = Slot(rawValue: try await output(backend, commands.liveSlot()))
        let idle = live?.other ?? .blue
        if let live, let liveRelease = try? await release(in: live, on: backend) {
            let liveRevision = try await output(backend, commands.revision(of: liveRelease))
            if let commits = try? repository.commits(from: liveRevision, to: revision), !commits.isEmpty {
                note("changes since the live release (\(liveRelease)):")
                commits.prefix(10).forEach { note("  \($0.shortSHA) \($0.subject) (\($0.author))") }
                if commits.count > 10 { note("  ... and \(commits.count - 10) more") }
            }
        }
        let (name, metadata) = try await shipper.ship(repository, revision: revision, to: backend, deployer: deployer)
        note("release \(name): \(metadata.subject)")
        if let text = try envFileText() {
            try await must(backend, commands.writeEnvFile(release: name), "cannot write the env file of release \(name)", stdin: Data(text.utf8))
        }
        try await prepareSlots(on: backend)
        do {
            try await startChecked(idle, release: name, live: live, on: backend, note: note)
        } catch {
            // Failed, interrupted or cut off before the switch: the new slot goes; traffic never moved.
            _ = try? await backend.run(commands.stop(idle))
            throw error
        }
        if stage {
            _ = try await backend.run(commands.markStaged(idle))
            note("staged: slot \(idle.rawValue) runs \(name) on \(commands.socket(idle)); `swiftfab promote` switches traffic to it")
            return Outcome(release: name, slot: idle, previous: live, switchSeconds: 0)
        }
        return try await switchTraffic(on: backend, to: idle, from: live, release: name, token: token, stopsIfNotSwitched: true,
                                       note: note, serving: serving)
    }

    /// Starts `release` in the idle slot, health-checks it, runs the hooks and
    /// the warm-up; throws (leaving the slot to the caller to stop) otherwise.
    private func startChecked(_ idle: Slot, release name: String, live: Slot?, on backend: any Backend,
                              note: @Sendable (String) -> Void) async throws {
        let started = try await backend.run(commands.start(idle, release: name))
        let healthy = started.succeeded ? try await backend.run(commands.healthCheck(idle)) : started
        guard healthy.succeeded else {
            let logs = Secret.redact((try? await backend.run(commands.lastLogLines(idle)).stdoutText) ?? "", envSecrets)
            let reason = healthy.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            let what = started.succeeded ? "failed its health check" : "did not start"
            throw SwiftFabError(.command, host: backend.host,
                                "release \(name) \(what) in slot \(idle.rawValue) (\(reason.isEmpty ? healthy.summary : reason)); traffic stays on \(live.map { "slot " + $0.rawValue } ?? "nothing (no release was live)")",
                                hint: "the slot's last log lines:\n" + logs.split(separator: "\n").suffix(20).map { "    " + $0 }.joined(separator: "\n"))
        }
        for script in config.beforeSwitch {
            let result = try await backend.run(commands.hook(script, release: name, slot: idle))
            guard result.succeeded else {
                throw SwiftFabError(.command, host: backend.host, "`\(script)` failed in release \(name) (\(result.summary)); traffic stays on \(live.map { "slot " + $0.rawValue } ?? "nothing")",
                                    hint: result.stderrText.split(separator: "\n").suffix(5).joined(separator: "\n"))
            }
        }
        if config.warmupRequests > 0 {
            _ = try await backend.run(commands.warmup(idle, count: config.warmupRequests))
            note("warmed slot \(idle.rawValue) with \(config.warmupRequests) requests")
        }
    }

    /// Moves traffic to `slot`, checks through the proxy, prunes old releases.
    /// With `stopsIfNotSwitched`, `slot` is stopped when the switch never happens.
    private func switchTraffic(on backend: any Backend, to slot: Slot, from live: Slot?, release name: String, token: String,
                               stopsIfNotSwitched: Bool, note: @Sendable (String) -> Void,
                               serving: @Sendable (String?) -> Void) async throws -> Outcome {
        let idle = slot
        let liveRelease: String?, oldPrevious: String?, switchStart: Double
        do {
            try await lock.ensureHeld(on: backend, token: token)
            liveRelease = try await live.asyncMap { try await release(in: $0, on: backend) } ?? nil
            oldPrevious = try await previousRelease(on: backend)
            switchStart = monotonicNow()
            try await must(backend, commands.switchTo(idle, previous: liveRelease.map { .set($0) } ?? .keep),
                           "cannot switch traffic to slot \(idle.rawValue)")
        } catch {
            try await notSwitched(idle, release: name, error: error, stops: stopsIfNotSwitched, on: backend, serving: serving)
        }
        serving(name)
        do {
            return try await afterSwitch(on: backend, to: idle, from: live, liveRelease: liveRelease, oldPrevious: oldPrevious,
                                         release: name, switchStart: switchStart, note: note, serving: serving)
        } catch let error as SwiftFabError where error.kind == .interrupted {
            throw SwiftFabError(.interrupted, host: backend.host,
                                "interrupted after the switch: slot \(idle.rawValue) runs \(name) and takes the traffic"
                                    + (live.map { " (slot \($0.rawValue) still runs the release before it)" } ?? "")
                                    + "; what follows the switch (the check through the proxy, stopping the old slot, pruning) did not run or was cut short",
                                hint: "swiftfab rollback goes back to the release before it")
        }
    }

    /// The switch failed, or was cut off: it may still have moved traffic
    /// (the link swapped, then the rollback target could not be written; a
    /// connection lost as it ran). The host says which slot is live: the new
    /// slot is stopped only when it certainly takes no traffic.
    private func notSwitched(_ idle: Slot, release name: String, error: Error, stops: Bool, on backend: any Backend,
                             serving: @Sendable (String?) -> Void) async throws -> Never {
        let live = try? await output(backend, commands.liveSlot().asCleanup())
        if live == idle.rawValue {
            serving(name)
            let failure = error as? SwiftFabError
            throw SwiftFabError(failure?.kind ?? .command, host: backend.host,
                                "slot \(idle.rawValue) runs \(name) and takes the traffic, but the switch did not end well: "
                                    + (failure?.message ?? "\(error)"),
                                hint: "`swiftfab status` shows what is live; `swiftfab rollback` goes back to the release before it")
        }
        guard live != nil else {
            // Unknown: stopping the slot could take the site down; leaving it costs memory only.
            let failure = error as? SwiftFabError
            throw SwiftFabError(failure?.kind ?? .command, host: backend.host,
                                (failure?.message ?? "\(error)") + "; whether traffic moved to slot \(idle.rawValue) is unknown (the host did not answer), so it was left running",
                                hint: "`swiftfab status` shows which slot is live; `swiftfab deploy` again when the host answers")
        }
        if stops { _ = try? await backend.run(commands.stop(idle)) }
        throw error
    }

    /// What follows the switch: the check through the proxy (switching back
    /// when it fails), the old slot's delayed stop, pruning.
    private func afterSwitch(on backend: any Backend, to idle: Slot, from live: Slot?, liveRelease: String?, oldPrevious: String?,
                             release name: String, switchStart: Double, note: @Sendable (String) -> Void,
                             serving: @Sendable (String?) -> Void) async throws -> Outcome {
        _ = try? await backend.run(commands.clearStaged().asCleanup())
        if let url = config.proxyCheckURL, case let check = try await backend.run(commands.proxyCheck(url, slot: idle)), !check.succeeded {
            // Back to exactly what was there; the new slot is stopped only once that worked.
            let restore = live.map { commands.switchTo($0, previous: oldPrevious.map { .set($0) } ?? .remove) }
                ?? commands.unsetLive()
            let restored = (try? await backend.run(restore.asCleanup()))?.succeeded ?? false
            if restored {
                serving(liveRelease)
                _ = try? await backend.run(commands.stop(idle))
            }
            let after = !restored ? "AND SWITCHING BACK FAILED: traffic still goes to slot \(idle.rawValue)"
                : live.map { "switched back to slot \($0.rawValue)" } ?? "no release was live before, so nothing is live now"
            let why = check.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw SwiftFabError(.command, host: backend.host, "after the switch, \(why.isEmpty ? "the proxy does not answer \(url)" : why); \(after)",
                                hint: "check the proxy's configuration (nginx -t) and its upstream \(commands.liveSocket)")
        }
        let switchSeconds = monotonicNow() - switchStart
        if let live, let oldRelease = liveRelease, let delay = config.stopOldSlotAfter {
            _ = try await backend.run(commands.stopLater(live, release: oldRelease, after: delay))
            note("live: slot \(idle.rawValue) runs \(name); slot \(live.rawValue) stops in \(Format.seconds(delay))")
        } else {
            note("live: slot \(idle.rawValue) runs \(name)" + (live.map { "; slot \($0.rawValue) stays warm for rollback" } ?? ""))
        }
        do {
            try await prune(on: backend)
        } catch {
            note("old releases were not pruned: \(error)")
        }
        return Outcome(release: name, slot: idle, previous: live, switchSeconds: switchSeconds)
    }

    /// Switches traffic to the slot staged by `deploy --stage`, after checking it is still healthy.
    public func promote(on backend: any Backend, deployer: String, note: @Sendable (String) -> Void = { _ in },
                        serving: @Sendable (String?) -> Void = { _ in }) async throws -> Outcome {
        try await locked(on: backend, who: deployer, revision: "promote", note: note) { token in
            guard let staged = Slot(rawValue: try await output(backend, commands.stagedSlot())) else {
                throw SwiftFabError(.command, host: backend.host, "nothing is staged", hint: "run: swiftfab deploy --stage")
            }
            guard try await output(backend, commands.liveSlot()) != staged.rawValue else {
                _ = try? await backend.run(commands.clearStaged().asCleanup())
                throw SwiftFabError(.command, host: backend.host, "the staged slot \(staged.rawValue) is already live", hint: "nothing to promote")
            }
            guard (try await backend.run(commands.healthCheck(staged, timeout: 2))).succeeded else {
                throw SwiftFabError(.command, host: backend.host, "the staged slot \(staged.rawValue) is not healthy any more; traffic stays where it is",
                                    hint: "deploy --stage again")
            }
            let live = Slot(rawValue: try await output(backend, commands.liveSlot()))
            guard let release = try await release(in: staged, on: backend) else {
                throw SwiftFabError(.command, host: backend.host, "the staged slot \(staged.rawValue) names no release; traffic stays where it is",
                                    hint: "deploy --stage again")
            }
            return try await switchTraffic(on: backend, to: staged, from: live, release: release, token: token, stopsIfNotSwitched: false,
                                           note: note, serving: serving)
        }
    }

    /// Switches to the previous release (or `to` another kept one) in the
    /// other slot: instantly when that slot still runs it and is healthy,
    /// otherwise after starting it there and health-checking it.
    public func rollback(on backend: any Backend, deployer: String, to target: RollbackTarget = .previous,
                         note: @Sendable (String) -> Void = { _ in }) async throws -> Outcome {
        try await locked(on: backend, who: deployer, revision: "rollback", note: note) { token in
            try await rollbackLocked(on: backend, to: target, token: token, note: note)
        }
    }

    private func rollbackLocked(on backend: any Backend, to wanted: RollbackTarget, token: String,
                                note: @Sendable (String) -> Void) async throws -> Outcome {
        guard let live = Slot(rawValue: try await output(backend, commands.liveSlot())) else {
            throw SwiftFabError(.command, host: backend.host, "nothing is deployed yet: no live slot to roll back from")
        }
        let target = live.other
        let liveRelease = try await self.release(in: live, on: backend)
        // The release that was live before, not whatever a failed or staged deploy left in the other slot.
        var release: String?
        if wanted == .previous {
            release = try await previousRelease(on: backend)
        } else {
            let kept = try await output(backend, shipper.list(including: wanted)).split(separator: "\n").map(String.init)
            release = try await wanted.resolve(in: kept, live: liveRelease, host: backend.host) { name in
                let text = try await output(backend, commands.revision(of: name))
                return text.isEmpty ? nil : text
            }
        }
        guard let release else {
            throw SwiftFabError(.command, host: backend.host, "no previous release to roll back to (only one release was ever live here)",
                                hint: "`swiftfab releases` lists what this host keeps; `swiftfab rollback RELEASE` goes to one of them")
        }
        if release == liveRelease {
            note("release \(release) is already live in slot \(live.rawValue); nothing changed")
            return Outcome(release: release, slot: live, previous: nil, switchSeconds: 0)
        }
        _ = try await backend.run(commands.clearStaged())
        // A slot whose release file is unreadable is treated as cold: started afresh, never trusted.
        var warm = (try? await self.release(in: target, on: backend)) == release
        if warm { warm = try await backend.run(commands.healthCheck(target, timeout: 0.2), .asCheck).succeeded }
        if !warm {
            note("slot \(target.rawValue) is cold: starting \(release)")
            try await prepareSlots(on: backend)
            let started = try await backend.run(commands.start(target, release: release))
            guard started.succeeded, (try await backend.run(commands.healthCheck(target))).succeeded else {
                _ = try? await backend.run(commands.stop(target))
                throw SwiftFabError(.command, host: backend.host, "release \(release) does not come up healthy in slot \(target.rawValue); traffic stays on slot \(live.rawValue)")
            }
        }
        try await lock.ensureHeld(on: backend, token: token)
        let switchStart = monotonicNow()
        try await must(backend, commands.switchTo(target, previous: liveRelease.map { .set($0) } ?? .remove),
                       "cannot switch traffic to slot \(target.rawValue)")
        note("live: slot \(target.rawValue) runs \(release)")
        return Outcome(release: release, slot: target, previous: live, switchSeconds: monotonicNow() - switchStart)
    }

    /// The env file as the slots read it: KEY=VALUE text (never run as shell
    /// code on this machine), every value quoted. Nil without an env file.
    func envFileText() throws -> String? {
        guard let path = config.envFile else { return nil }
        let values = try SettingsSource.readEnvFile(path)
        for key in values.keys where !Shell.isValidVariableName(key) {
            throw SwiftFabError(.config, "\(path): \(Shell.quote(key)) is not a valid variable name")
        }
        return values.keys.sorted().map { "\($0)=\(Shell.quote(values[$0]!))" }.joined(separator: "\n") + "\n"
    }

    /// Values of the env file, to keep them out of everything shown (values
    /// under 4 bytes, such as `1` or `on`, would hide too much to be useful).
    public var envSecrets: [Secret] {
        guard let envFile = config.envFile, let values = try? SettingsSource.readEnvFile(envFile) else { return [] }
        return values.values.filter { $0.utf8.count >= 4 }.map { Secret($0) }
    }

    /// The release a slot runs, as the host says; nil when it never ran.
    public func release(in slot: Slot, on backend: any Backend) async throws -> String? {
        try await releaseName(backend, commands.slotRelease(slot), file: commands.slotReleaseFile(slot))
    }

    /// The rollback target in `run/previous`; nil when there is none.
    public func previousRelease(on backend: any Backend) async throws -> String? {
        try await releaseName(backend, commands.previousRelease(), file: commands.previousFile)
    }

    /// A release name read back from the host is used as a path only when it
    /// is a name this recipe makes: a damaged or planted file stops the work
    /// before anything changes.
    private func releaseName(_ backend: any Backend, _ command: Command, file: String) async throws -> String? {
        let text = try await output(backend, command)
        if text.isEmpty { return nil }
        guard AppLayout.isReleaseName(text) else {
            throw SwiftFabError(.command, host: backend.host, "\(file) holds \(String(reflecting: String(text.prefix(80)))), which is not a release name; nothing was changed",
                                hint: "see what is live with `swiftfab status`, then fix or remove that file")
        }
        return text
    }

    /// Old releases go; the ones either slot runs always stay.
    private func prune(on backend: any Backend) async throws {
        let all = try await output(backend, shipper.list()).split(separator: "\n").map(String.init)
        var protected = Set<String>()
        for slot in Slot.allCases { if let name = try await release(in: slot, on: backend) { protected.insert(name) } }
        if let name = try await previousRelease(on: backend) { protected.insert(name) }
        let doomed = Retention.releasesToDelete(all, keep: config.keepReleases, protected: protected)
        if !doomed.isEmpty { _ = try await backend.run(commands.removeReleases(doomed)) }
    }

    /// What starting a slot needs first (the app's supervisord, or the folders).
    private func prepareSlots(on backend: any Backend) async throws {
        let (command, failure) = commands.prepareSlots()
        if let failure {
            try await must(backend, command, failure)
        } else {
            _ = try await backend.run(command)
        }
    }

    private func output(_ backend: any Backend, _ command: Command) async throws -> String {
        try await backend.run(command).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func must(_ backend: any Backend, _ command: Command, _ what: String, stdin: Data? = nil) async throws {
        let result = try await backend.run(command, ExecOptions(stdin: stdin))
        guard result.succeeded else {
            throw SwiftFabError(.command, host: backend.host, "\(what): \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
