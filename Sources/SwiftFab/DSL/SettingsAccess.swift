import Foundation

/// `Settings["app_dir"]` inside a task: the setting's value for the run's
/// environment. Read while the task is planned; a setting that cannot be
/// resolved (its environment variable is unset) fails the plan, naming it,
/// only when a task actually uses it.
public enum Settings {
    @TaskLocal static var current: SettingsScope?

    public static subscript(_ name: String) -> SettingValue {
        guard let scope = current else { return .plain("") }
        return scope.value(name)
    }
}

/// The settings a plan is being built with, and the ones it asked for in vain.
final class SettingsScope: @unchecked Sendable {
    private let lock = NSLock()
    let resolved: ResolvedSettings
    /// A dry run shows a setting whose variable is not set as such, and goes on.
    let dryRun: Bool
    private(set) var problems: [String] = []

    init(_ resolved: ResolvedSettings, dryRun: Bool = false) {
        self.resolved = resolved
        self.dryRun = dryRun
    }

    func value(_ name: String) -> SettingValue {
        if let value = resolved[name] { return value }
        if dryRun, let variable = resolved.missing[name] { return .secret(Secret(notSet: variable)) }
        lock.withLock {
            if let variable = resolved.missing[name] {
                problems.append("the setting \(name) needs the environment variable \(variable), which is not set")
            } else {
                let known = Array(resolved.values.keys) + Array(resolved.missing.keys)
                let near = EditDistance.near(name, in: known)
                problems.append("no setting named \(name) in the Deployfile" + (near.isEmpty ? "" : " (did you mean \(near.prefix(3).joined(separator: ", "))?)"))
            }
        }
        return .plain("")
    }
}

extension ShellString.Interpolation {
    /// A setting: quoted, and redacted when it is a secret.
    public mutating func appendInterpolation(_ value: SettingValue) {
        switch value {
        case .plain(let text): parts.append(.value(text))
        case .secret(let secret): parts.append(.secret(secret))
        }
    }
}
