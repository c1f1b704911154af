import Foundation
import SwiftFab

/// What `deploy --dry-run` shows: the revision resolved here and the exact
/// commands a deploy runs on each host, for the slot that is idle there
/// (blue is shown; the other slot's commands differ only in its name).
/// Nothing connects and nothing is uploaded.
struct DeployPreview {
    let config: BlueGreenConfig
    let deployer: BlueGreenDeployer

    func steps(commit: GitCommit, stage: Bool, who: String) -> [Step] {
        let name = AppLayout.releaseName(for: commit, at: Date())
        let layout = config.layout
        let commands = deployer.commands
        let tarball = layout.releases + "/.upload-" + name + ".tar"
        let metadata = ReleaseShipper.Metadata(revision: commit.sha, subject: commit.subject, author: commit.author,
                                               deployer: who, deployedAt: ISO8601DateFormatter().string(from: Date()), release: name)
        let slot = Slot.blue
        var steps: [Step] = [Dynamic("release \(name): \(commit.shortSHA) \(commit.subject) (\(commit.author)); the commits since the live release are listed when it runs") { _ in }]
        steps.append(.run(DeployLock(layout: layout).acquire(who: who, revision: commit.sha, token: "TOKEN")))
        steps.append(.upload(local: "git archive of \(commit.shortSHA) (made here by libgit2)", remote: tarball, mode: 0o600))
        if let unpack = try? ReleaseShipper(layout: layout).unpack(tarball, as: name, metadata: metadata) { steps.append(.run(unpack)) }
        if let envFile = config.envFile {
            steps.append(Dynamic("the values of \(envFile), re-quoted, go on the next command's stdin") { _ in })
            steps.append(.run(commands.writeEnvFile(release: name)))
        }
        if case .process = config.runtime { steps.append(.run(commands.ensureSupervisor())) }
        steps.append(Dynamic("in the idle slot (here: \(slot.rawValue)); on failure it is stopped and traffic stays where it was") { _ in })
        steps.append(.run(commands.start(slot, release: name)))
        steps.append(.run(commands.healthCheck(slot)))
        for script in config.beforeSwitch { steps.append(.run(commands.hook(script, release: name, slot: slot))) }
        if config.warmupRequests > 0 { steps.append(.run(commands.warmup(slot, count: config.warmupRequests))) }
        if stage {
            steps.append(Dynamic("--stage: stop here; `swiftfab promote` switches traffic") { _ in })
        } else {
            steps.append(.run(commands.switchTo(slot, previous: .set("<the release live before>"))))
            if let url = config.proxyCheckURL { steps.append(.run(commands.proxyCheck(url, slot: slot))) }
        }
        steps.append(.run(DeployLock(layout: layout).release(token: "TOKEN")))
        return steps
    }

    /// `rollback --dry-run`: the other slot (green shown) goes live again.
    func rollbackSteps(who: String) -> [Step] {
        let lock = DeployLock(layout: config.layout)
        let commands = deployer.commands
        return [
            .run(lock.acquire(who: who, revision: "rollback", token: "TOKEN")),
            Dynamic("the other slot (here: green) serves the release in \(commands.previousFile) again; "
                    + "if it is not warm and healthy within 0.2 s, that release is started in it first") { _ in },
            .run(commands.healthCheck(.green, timeout: 0.2)),
            .run(commands.switchTo(.green)),
            .run(lock.release(token: "TOKEN")),
        ]
    }

    /// `promote --dry-run`: the slot `deploy --stage` left ready (green shown) goes live.
    func promoteSteps(who: String) -> [Step] {
        let lock = DeployLock(layout: config.layout)
        let commands = deployer.commands
        var steps: [Step] = [
            .run(lock.acquire(who: who, revision: "promote", token: "TOKEN")),
            Dynamic("the slot named in \(commands.stagedFile) (here: green), if it is still healthy") { _ in },
            .run(commands.healthCheck(.green, timeout: 2)),
            .run(commands.switchTo(.green)),
        ]
        if let url = config.proxyCheckURL { steps.append(.run(commands.proxyCheck(url, slot: .green))) }
        steps.append(.run(lock.release(token: "TOKEN")))
        return steps
    }
}
