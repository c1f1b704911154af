import Foundation
import SwiftFab

/// `swiftfab provision [--check]`: sets each host up for the app, step by
/// step, each checked before it acts and reported ok / changed / failed
/// (`--check`: ok / would change, nothing changed). A second run changes nothing.
public func Provision(_ given: ServerConfig) -> DeployfileItem {
    let checkFlag = Flag("check", help: "Only check each step and say what would change; change nothing")
    return Recipe {
        if let envFile = given.app.envFile { HideValues(ofEnvFile: envFile) }
        TaskDefinition(name: "provision", description: "Set hosts up for \(given.layout.app) idempotently (--check: only report what would change)",
                       roles: given.app.roles, strategy: .parallel, failurePolicy: .continueOnFailure, options: [checkFlag]) { arguments in
            let config = try given.resolvingPaths(in: arguments.run).readingDatabasePassword()
            let checkOnly = arguments[checkFlag]
            let pending = HostTally()
            return [Dynamic("provision \(config.layout.app)" + (checkOnly ? " (check only)" : "")) { host in
                let dryRun = host.run.dryRun
                let reports = try await Provisioner(config: config.forHost(host.host)).provision(on: host.backend, checkOnly: checkOnly) { report in
                    if !dryRun { host.note(ProvisionReport.line(report)) }
                }
                if dryRun { return }   // the steps' commands above say it all
                let counts = ProvisionReport.summary(reports)
                host.note(counts)
                if let failed = reports.first(where: { $0.outcome == .failed }) {
                    throw SwiftFabError(.command, host: host.host.address, "provision failed at: \(failed.step)",
                                        hint: "fix what it says above, then run provision again (steps already done stay ok)")
                }
                pending.add(reports.filter { $0.outcome == .wouldChange }.count, host: host.host.address)
            }, AfterAllHosts { run in
                if checkOnly && !arguments.run.dryRun { run.conclude(ProvisionReport.verdict(pending)) }
                return []
            }]
        }
    }
}

/// Runs the plan on one host: decides what depends on the host (systemd or
/// not), stages the env file locally, and runs the steps.
public struct Provisioner: Sendable {
    public var config: ServerConfig

    public init(config: ServerConfig) { self.config = config }

    public func provision(on backend: any Backend, checkOnly: Bool = false,
                          report: @Sendable (StepReport) -> Void = { _ in }) async throws -> [StepReport] {
        let probe = Command(shell: "test -d /run/systemd/system").described("ask whether the host runs systemd")
            .assuming(because: "the host runs systemd")
        // Its "no" is an answer (supervisor then brings the slots back), not a failure to show.
        let systemd = config.boot == .automatic ? try await backend.run(probe, .asCheck).succeeded : false
        var staged: (local: String, remote: String)?
        // The env file's secrets are copied into a private folder, removed on every way out.
        var stagingFolder: String?
        defer { if let stagingFolder { TemporaryPaths.remove(stagingFolder) } }
        if let envFile = config.app.envFile {
            let values = try SettingsSource.readEnvFile(envFile)
            for key in values.keys where !Shell.isValidVariableName(key) {
                throw SwiftFabError(.config, "\(envFile): \(Shell.quote(key)) is not a valid variable name")
            }
            let folder = try PrivateFile.makeTemporaryDirectory(prefix: "swiftfab-env-")
            stagingFolder = folder
            try PrivateFile.write(Data(FileText.envFile(values).utf8), to: folder + "/env")
            staged = (folder + "/env", "/tmp/.swiftfab-env-" + UUID().uuidString.prefix(12).lowercased())
        }
        let steps = ProvisionPlan(config: config).steps(systemd: systemd, stagedEnvFile: staged)
        return try await ProvisionRunner(checkOnly: checkOnly).run(steps, on: backend, report: report)
    }
}

enum ProvisionReport {
    static func line(_ report: StepReport) -> String {
        let status = report.outcome.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
        return status + report.step + (report.detail.isEmpty ? "" : ": " + report.detail.replacingOccurrences(of: "\n", with: " | "))
    }

    /// `--check`'s last line: nothing to change (exit 0), or what would, where
    /// (exit 2, as `terraform plan -detailed-exitcode`: 1 stays "failed").
    static func verdict(_ pending: HostTally) -> Verdict {
        guard pending.total > 0 else { return .fine("nothing to change") }
        return .warning(HostTally.count(pending.total, "step") + " would change on " + pending.hosts.joined(separator: ", ")
                        + " (nothing was changed; provision without --check applies them)", exitCode: changesPending)
    }

    /// `provision --check`'s exit status when something would change.
    static let changesPending: Int32 = 2

    static func summary(_ reports: [StepReport]) -> String {
        let order: [StepOutcome] = [.ok, .changed, .wouldChange, .failed, .skipped]
        return order.compactMap { outcome in
            let count = reports.filter { $0.outcome == outcome }.count
            return count == 0 ? nil : "\(count) \(outcome.rawValue)"
        }.joined(separator: ", ")
    }
}

extension ServerConfig {
    /// Relative paths are the Deployfile's, wherever swiftfab was started.
    func resolvingPaths(in run: RunContext) -> ServerConfig {
        var config = self
        config.app = config.app.resolvingPaths(in: run)
        return config
    }
}

/// `provision`, `doctor` and `logs` for one app, from one config.
public func ServerTasks(_ config: ServerConfig) -> DeployfileItem {
    Recipe {
        Provision(config)
        Doctor(config)
        Logs(config)
    }
}
