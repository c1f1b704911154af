import Foundation
import SwiftFab

/// One idempotent piece of a server's set-up: `check` exits 0 when the host
/// is already as wanted (its last output line says what differs when not);
/// `apply` makes it so, and must leave the host as it was when it fails
/// (the proxy step restores the previous site when nginx rejects the new one).
public struct ProvisionStep: Sendable {
    public var name: String
    public var check: Command
    public var apply: Command
    /// A local file put on the host before the check (e.g. the env file, so
    /// that its values are compared there and never travel in a command line);
    /// `cleanup` removes it whatever happens.
    public var stage: Staged?
    public var cleanup: Command?

    public struct Staged: Sendable {
        public var local: String
        public var remote: String
        public var mode: UInt32

        public init(local: String, remote: String, mode: UInt32) {
            self.local = local
            self.remote = remote
            self.mode = mode
        }
    }

    public init(_ name: String, check: Command, apply: Command, stage: Staged? = nil, cleanup: Command? = nil) {
        self.name = name
        // A dry run shows a fresh server: every check answers "not yet", so every set-up is shown.
        self.check = check.assumption == nil
            ? check.described("check: \(name)").assuming(exitStatus: 1, because: "it is not set up yet, as on a fresh server") : check
        self.apply = apply.summary == nil ? apply.described("set up: \(name)") : apply
        self.stage = stage
        self.cleanup = cleanup?.asCleanup()
    }
}

public enum StepOutcome: String, Sendable, Codable {
    case ok
    case changed
    /// `--check`: applying would change the host.
    case wouldChange = "would change"
    case failed
    /// Not run: an earlier step failed.
    case skipped
}

public struct StepReport: Sendable, Equatable {
    public var step: String
    public var outcome: StepOutcome
    public var detail: String
}

/// Runs steps on one host: check, then apply only what differs, then check
/// again (a step that applied but still differs has failed). Stops at the
/// first failure: later steps build on earlier ones.
public struct ProvisionRunner: Sendable {
    public var checkOnly: Bool

    public init(checkOnly: Bool = false) { self.checkOnly = checkOnly }

    public func run(_ steps: [ProvisionStep], on backend: any Backend,
                    report: @Sendable (StepReport) -> Void = { _ in }) async throws -> [StepReport] {
        var reports: [StepReport] = []
        for step in steps {
            let outcome: StepReport
            if reports.last?.outcome == .failed || reports.contains(where: { $0.outcome == .skipped }) {
                outcome = StepReport(step: step.name, outcome: .skipped, detail: "an earlier step failed")
            } else {
                outcome = try await run(step, on: backend)
            }
            report(outcome)
            reports.append(outcome)
        }
        return reports
    }

    func run(_ step: ProvisionStep, on backend: any Backend) async throws -> StepReport {
        if let staged = step.stage {
            _ = try await backend.upload(staged.local, to: staged.remote, TransferOptions(mode: staged.mode))
        }
        do {
            let report = try await checkAndApply(step, on: backend)
            if let cleanup = step.cleanup { _ = try? await backend.run(cleanup) }
            return report
        } catch {
            if let cleanup = step.cleanup { _ = try? await backend.run(cleanup) }
            throw error
        }
    }

    func checkAndApply(_ step: ProvisionStep, on backend: any Backend) async throws -> StepReport {
        let before = try await backend.run(step.check, .asCheck)
        if before.succeeded { return StepReport(step: step.name, outcome: .ok, detail: "") }
        let difference = Self.lastLine(before.stdoutText)
        if checkOnly {
            return StepReport(step: step.name, outcome: .wouldChange, detail: difference)
        }
        let applied = try await backend.run(step.apply)
        guard applied.succeeded else {
            let why = Self.lastLines(applied.stderrText + applied.stdoutText)
            return StepReport(step: step.name, outcome: .failed, detail: why.isEmpty ? applied.summary : why)
        }
        let after = try await backend.run(step.check.assuming(because: "the set-up worked"), .asCheck)
        guard after.succeeded else {
            return StepReport(step: step.name, outcome: .failed, detail: "applied, but still differs: " + Self.lastLine(after.stdoutText))
        }
        return StepReport(step: step.name, outcome: .changed, detail: difference)
    }


    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    static func lastLines(_ text: String, count: Int = 4) -> String {
        text.split(separator: "\n").suffix(count).joined(separator: "\n")
    }
}

extension ExecOptions {
    /// A question to the host: its "no" is an answer, not a failure to show.
    static var asCheck: ExecOptions { var options = ExecOptions(); options.isCheck = true; return options }
}
