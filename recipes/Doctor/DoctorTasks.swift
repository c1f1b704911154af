import Foundation
import SwiftFab

/// `swiftfab doctor`: every check on every host at once, one table per host
/// (check, status, what it saw, and what to do). Exits 0 when all is ok,
/// 1 with warnings only, 2 with failures; `--json` writes one object per check.
public func Doctor(_ given: ServerConfig) -> DeployfileItem {
    Recipe {
        if let envFile = given.app.envFile { HideValues(ofEnvFile: envFile) }
        TaskDefinition(name: "doctor", description: "Check every host of \(given.layout.app) and say what is wrong and what to do",
                       roles: given.app.roles, strategy: .parallel, failurePolicy: .continueOnFailure, hostFailureExitCode: 2) { arguments in
            let config = given.resolvingPaths(in: arguments.run)
            let live = LiveReleases()
            let failures = HostTally(), warnings = HostTally()
            return [Dynamic("doctor \(config.layout.app)") { host in
                let config = config.forHost(host.host).readingDatabasePassword(host.settings, run: host.run)
                if host.run.dryRun {
                    // What would be checked, then the same round trips a real run makes (their answers unread).
                    for check in DoctorChecks(config: config).all() { host.note("check \(check.name): \(check.command.summary ?? check.command.display)") }
                    _ = try await DoctorRun(config: config).findings(on: host.backend)
                    return
                }
                let findings = try await DoctorRun(config: config).findings(on: host.backend)
                live.note(findings, host: host.host.address)
                let worst = findings.map(\.status).max() ?? .ok
                host.raiseExitCode(to: worst.exitCode)
                failures.add(findings.filter { $0.status == .fail }.count, host: host.host.address)
                warnings.add(findings.filter { $0.status == .warn }.count, host: host.host.address)
                // Each finding as a record (--json, the run log); people get the table.
                findings.forEach { host.report("finding", $0.fields) }
                if !host.run.json { DoctorReport.table(findings).forEach(host.result) }
            }, AfterAllHosts { run in
                // Hosts of one environment that serve different releases: a rollout that stopped halfway, or drift.
                let disagreement = live.disagreement()
                if let verdict = DoctorReport.verdict(failures: failures.total, warnings: warnings.total + (disagreement == nil ? 0 : 1)) {
                    run.conclude(verdict)
                }
                guard let disagreement else { return [] }
                run.raiseExitCode(to: CheckStatus.warn.exitCode)
                run.report("finding", disagreement.fields)
                if arguments.run.json { return [] }
                return ["warning: " + disagreement.saw, "  → " + (disagreement.hint ?? "")]
            }]
        }
    }
}

/// The findings for one host: SSH and the clock from one timed round trip,
/// then every other check in one bundle.
public struct DoctorRun: Sendable {
    public var config: ServerConfig
    public var clockWarn: Double = 1
    public var clockFail: Double = 30

    public init(config: ServerConfig) { self.config = config }

    public func findings(on backend: any Backend) async throws -> [Finding] {
        // The fastest of three probes: one slow moment of a busy host is not a slow link.
        var best: (seconds: Double, remote: Double?, midpoint: Double)?
        for _ in 0..<3 {
            let start = Date().timeIntervalSince1970
            let probe = try await backend.run(Command.raw("date +%s.%N").described("read the host's clock (the round trip and the clock's offset)"))
            let end = Date().timeIntervalSince1970
            if best == nil || end - start < best!.seconds {
                best = (end - start, Double(probe.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)), (start + end) / 2)
            }
        }
        var findings = [sshFinding(seconds: best!.seconds, host: backend.host), clockFinding(remote: best!.remote, localMidpoint: best!.midpoint)]
        let bundle = CheckBundle(DoctorChecks(config: config).all())
        let result = try await backend.run(try bundle.command())
        findings += bundle.read(result.stdoutText, host: backend.host)
        for index in findings.indices { findings[index].host = backend.host }
        return findings
    }

    func sshFinding(seconds: Double, host: String) -> Finding {
        let saw = "reachable in \(Int(seconds * 1000)) ms, host key verified"
        return seconds > config.sshWarnSeconds ? Finding(check: "ssh", .warn, saw, hint: "a slow link or a busy host (see the load row): ping -c 5 \(Shell.quote(host))")
            : Finding(check: "ssh", .ok, saw)
    }

    func clockFinding(remote: Double?, localMidpoint: Double) -> Finding {
        guard let remote else { return Finding(check: "clock", .warn, "cannot read the host's clock", hint: "date -u") }
        let offset = remote - localMidpoint
        let saw = String(format: "%+.2f s from this machine", offset)
        let hint = "keep it in sync: sudo apt-get install -y chrony  (or: sudo timedatectl set-ntp true)"
        return abs(offset) > clockFail ? Finding(check: "clock", .fail, saw, hint: hint)
            : abs(offset) > clockWarn ? Finding(check: "clock", .warn, saw, hint: hint) : Finding(check: "clock", .ok, saw)
    }
}

public enum DoctorReport {
    /// Aligned columns, each warning or failure followed by its hint.
    public static func table(_ findings: [Finding]) -> [String] {
        let width = max(5, findings.map(\.check.count).max() ?? 0)
        func row(_ check: String, _ status: String, _ saw: String) -> String {
            check.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + status.padding(toLength: 6, withPad: " ", startingAt: 0) + "  " + saw
        }
        var lines = [row("check", "status", "what it saw")]
        for finding in findings {
            lines.append(row(finding.check, finding.status.rawValue, finding.saw))
            if let hint = finding.hint { lines.append(String(repeating: " ", count: width + 10) + "→ " + hint) }
        }
        let counts = [CheckStatus.ok, .warn, .fail].map { status in "\(findings.filter { $0.status == status }.count) \(status.rawValue)" }
        lines.append(counts.joined(separator: ", "))
        return lines
    }

    /// The run's last line and exit code: `2 failures, 1 warning` (2), `3 warnings` (1); nil when all is ok.
    static func verdict(failures: Int, warnings: Int) -> Verdict? {
        let warned = HostTally.count(warnings, "warning")
        if failures > 0 {
            return .failure(HostTally.count(failures, "failure") + (warnings > 0 ? ", " + warned : ""), exitCode: CheckStatus.fail.exitCode)
        }
        return warnings > 0 ? .warning(warned, exitCode: CheckStatus.warn.exitCode) : nil
    }
}

/// What each host said is live, to tell when hosts disagree. Compared by
/// commit: one rollout names each host's release with that host's own time.
final class LiveReleases: @unchecked Sendable {
    private let lock = NSLock()
    private var live: [String: (release: String, revision: String)] = [:]

    func note(_ findings: [Finding], host: String) {
        guard let finding = findings.first(where: { $0.check == "live release" && $0.status == .ok }),
              let release = finding.saw.range(of: UTCStamp.pattern + "-[0-9a-f]{7,40}", options: .regularExpression),
              let revision = finding.saw.range(of: "revision [0-9a-f]{7,40}", options: .regularExpression) else { return }
        lock.withLock { live[host] = (String(finding.saw[release]), String(finding.saw[revision].dropFirst("revision ".count))) }
    }

    /// A warning naming which host serves which commit, when they are not all the same.
    func disagreement() -> Finding? {
        let hosts = lock.withLock { live }
        let byRevision = Dictionary(grouping: hosts.keys.sorted(), by: { hosts[$0]!.revision })
        guard byRevision.count > 1 else { return nil }
        // Newest first, by when each commit was deployed.
        let newestRelease = { (revision: String) in byRevision[revision]!.map { hosts[$0]!.release }.max()! }
        let order = byRevision.keys.sorted { newestRelease($0) > newestRelease($1) }
        let saw = "hosts disagree about what is live: " + order.map { "\($0) on \(byRevision[$0]!.joined(separator: ", "))" }.joined(separator: "; ")
        let ahead = byRevision[order[0]]!.joined(separator: ",")
        return Finding(host: "*", check: "fleet", .warn, saw,
                       hint: "to finish the rollout: swiftfab deploy \(order[0]); to undo it: swiftfab rollback -H \(ahead)")
    }
}
