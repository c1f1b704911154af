import Foundation
import SwiftFab

public enum CheckStatus: String, Sendable, Codable, Comparable {
    case ok, warn, fail

    var rank: Int { self == .ok ? 0 : self == .warn ? 1 : 2 }
    public static func < (a: CheckStatus, b: CheckStatus) -> Bool { a.rank < b.rank }

    /// The run's exit code for a worst status: 0 all ok, 1 warnings only, 2 failures.
    public var exitCode: Int32 { Int32(rank) }
}

/// What one check found on one host.
public struct Finding: Sendable, Codable, Equatable {
    public var host: String
    public var check: String
    public var status: CheckStatus
    /// What the check saw (`91% used, 3.1 MB free`).
    public var saw: String
    /// For a warning or failure: what to do, as the exact command where there is one.
    public var hint: String?

    /// As a record's fields (`--json`, the run log): check, status, saw, hint.
    public var fields: [String: String] {
        var fields = ["check": check, "status": status.rawValue, "saw": saw]
        if let hint { fields["hint"] = hint }
        return fields
    }

    public init(host: String = "", check: String = "", _ status: CheckStatus, _ saw: String, hint: String? = nil) {
        self.host = host
        self.check = check
        self.status = status
        self.saw = saw
        self.hint = status == .ok ? nil : hint
    }
}

/// What a check's command left: its exit status and output.
public struct CheckOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { status == 0 }
    public var text: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    /// `key=value` lines of the output.
    public var fields: [String: String] {
        var fields: [String: String] = [:]
        for line in stdout.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }
    /// The last line of standard error, or else of standard output.
    public var lastErrorLine: String {
        func last(_ text: String) -> String? {
            text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init)
        }
        return last(stderr) ?? last(stdout) ?? ""
    }
}

/// One check as a value: the command run on the host, and how its output
/// reads as ok / warn / fail, what was seen, and the hint.
public struct DoctorCheck: Sendable {
    public var name: String
    public var command: Command
    public var read: @Sendable (CheckOutput) -> Finding

    public init(_ name: String, _ command: Command, read: @escaping @Sendable (CheckOutput) -> Finding) {
        self.name = name
        self.command = command
        self.read = read
    }
}

/// Runs checks on one host in one round trip: every check runs at the same
/// time on the host (each under a time limit), their outputs come back
/// framed by a marker line and are read apart here.
public struct CheckBundle: Sendable {
    public var checks: [DoctorCheck]
    public var timeLimit: Int
    let marker: String

    public init(_ checks: [DoctorCheck], timeLimit: Int = 15, marker: String = "@@swiftfab-doctor-" + UUID().uuidString.prefix(8)) {
        self.checks = checks
        self.timeLimit = timeLimit
        self.marker = marker
    }

    /// A check's secret environment values (a password) travel as the
    /// bundle's own, on its stdin, never in its command line; each is then
    /// kept in a shell variable and given to its check alone (such a check
    /// runs without sudo, which would drop them).
    public func command() throws -> Command {
        var script = "d=$(mktemp -d) || exit 1\n"
        var secrets: [String: ShellString] = [:]
        for (index, check) in checks.enumerated() {
            var command = check.command, assignments = ""
            for name in command.environment.keys.sorted() where !command.environment[name]!.secrets.isEmpty {
                let carrier = "SWIFTFAB_CHECK_\(index)_\(name)", kept = "_check_\(index)_\(name)"
                secrets[carrier] = command.environment.removeValue(forKey: name)
                script += "\(kept)=\"$\(carrier)\"; unset \(carrier)\n"
                assignments += "\(name)=\"$\(kept)\" "
            }
            let text = try command.rendered()
            script += "{ \(assignments)timeout \(timeLimit) sh -c \(Shell.quote(text)) >\"$d/\(index).out\" 2>\"$d/\(index).err\" </dev/null; echo $? >\"$d/\(index).rc\"; } &\n"
        }
        script += "wait\nfor i in $(seq 0 \(checks.count - 1)); do printf '%s %s %s\\n' \(Shell.quote(marker)) \"$i\" \"$(cat \"$d/$i.rc\")\"; "
            + "cat \"$d/$i.out\"; printf '%s err\\n' \(Shell.quote(marker)); cat \"$d/$i.err\"; done\nrm -rf \"$d\"\n"
        return Command.raw(script).with(shellEnvironment: secrets)
            .described("run the \(checks.count) checks at once, in one round trip: " + checks.map(\.name).joined(separator: ", "))
    }

    /// The findings, in the checks' order; a check whose output is missing fails.
    public func read(_ output: String, host: String) -> [Finding] {
        var outputs: [Int: CheckOutput] = [:]
        var current: Int?
        var inError = false
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(marker + " ") {
                let words = line.split(separator: " ")
                if words.count == 2, words[1] == "err" { inError = true; continue }
                guard words.count >= 2, let index = Int(words[1]) else { continue }
                current = index
                inError = false
                outputs[index] = CheckOutput(status: words.count > 2 ? Int32(words[2]) ?? 127 : 127, stdout: "")
                continue
            }
            guard let index = current else { continue }
            if inError { outputs[index]?.stderr += line + "\n" } else { outputs[index]?.stdout += line + "\n" }
        }
        return checks.enumerated().map { index, check in
            var finding: Finding
            if let result = outputs[index] {
                finding = result.status == 124 ? Finding(.fail, "no answer within \(timeLimit)s", hint: "run it by hand to see where it hangs: \(check.command.display)")
                    : check.read(result)
            } else {
                finding = Finding(.fail, "the check did not report", hint: "run: \(check.command.display)")
            }
            finding.host = host
            finding.check = check.name
            return finding
        }
    }
}
