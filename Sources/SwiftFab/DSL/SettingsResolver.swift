import Foundation

extension Deployfile {
    /// Reads every setting's value: env files first, the process environment
    /// over them, then the environment's own settings over the Deployfile's.
    public func resolveSettings(for environment: Environment?, source: SettingsSource = SettingsSource(),
                                baseDirectory: String = FileManager.default.currentDirectoryPath) throws -> ResolvedSettings {
        var variables: [String: String] = [:]
        for file in envFiles {
            let path = file.path.hasPrefix("/") ? file.path : baseDirectory + "/" + file.path
            if file.optional && !FileManager.default.fileExists(atPath: path) { continue }
            variables.merge(try SettingsSource.readEnvFile(path)) { _, new in new }
        }
        variables.merge(source.environment) { _, new in new }
        var values: [String: SettingValue] = [:]
        var missing: [String: String] = [:]
        for setting in settings {
            switch setting.source {
            case .value(let value):
                values[setting.name] = value
            case .environment(let name, let secret, let fallback):
                // Missing only matters to a task that uses it (the planner says so then).
                guard let value = variables[name] ?? fallback else {
                    missing[setting.name] = name
                    continue
                }
                values[setting.name] = secret ? .secret(Secret(value)) : .plain(value)
            }
        }
        values.merge(environment?.settings ?? [:]) { _, new in new }
        var settings = ResolvedSettings(values: values, missing: missing)
        for file in hiddenEnvFiles {
            let path = file.hasPrefix("/") ? file : baseDirectory + "/" + file
            guard FileManager.default.fileExists(atPath: path) else { continue }
            settings.hidden += try SettingsSource.readEnvFile(path).values.filter { $0.utf8.count >= Redactor.minimumLength }.map { Secret($0) }
        }
        return settings
    }
}
