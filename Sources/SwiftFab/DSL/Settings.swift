import Foundation

/// A setting's value: plain, or a secret that is redacted everywhere.
public enum SettingValue: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    case plain(String)
    case secret(Secret)

    public init(stringLiteral value: String) { self = .plain(value) }

    public var description: String {
        switch self {
        case .plain(let value): return value
        case .secret: return "[secret]"
        }
    }

    /// For interpolation into shell text: secrets stay secrets.
    public var shell: ShellString {
        switch self {
        case .plain(let value): return .word(value)
        case .secret(let secret): return ShellString(parts: [.secret(secret)])
        }
    }
}

/// Where settings come from besides the Deployfile: the process environment
/// and env files (`KEY=VALUE` lines), read when the Deployfile runs.
public struct SettingsSource: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Reads an env file: `KEY=VALUE`, `export KEY=VALUE`, `#` comments,
    /// values optionally in single or double quotes.
    public static func readEnvFile(_ path: String) throws -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SwiftFabError(.config, "cannot read the env file \(path)", hint: "create it, or fix the path in the Deployfile")
        }
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                throw SwiftFabError(.config, "\(path):\(number + 1): expected KEY=VALUE", hint: "fix that line of the env file")
            }
            let key = String(line[..<equals]).trimmingCharacters(in: .whitespaces)
            var value = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
        }
        return values
    }
}

/// `Setting("branch", "main")`, `Setting("db_password", .secret(env: "DB_PASSWORD"))`
public struct SettingDefinition: Sendable {
    public enum Source: Sendable {
        case value(SettingValue)
        /// Read from the environment (or an env file loaded with `EnvFile`) when run.
        case environment(name: String, secret: Bool, default: String?)
    }
    public var name: String
    public var source: Source
}

public func Setting(_ name: String, _ value: String) -> SettingDefinition {
    SettingDefinition(name: name, source: .value(.plain(value)))
}

public func Setting(_ name: String, _ source: SettingDefinition.Source) -> SettingDefinition {
    SettingDefinition(name: name, source: source)
}

extension SettingDefinition.Source {
    /// A secret read from an environment variable (or an env file) at run time.
    public static func secret(env name: String) -> Self { .environment(name: name, secret: true, default: nil) }
    /// A plain value read from an environment variable, with an optional default.
    public static func env(_ name: String, default value: String? = nil) -> Self { .environment(name: name, secret: false, default: value) }
}

/// `EnvFile(".env.production")`: KEY=VALUE lines that settings may read.
public struct EnvFileDefinition: Sendable {
    public var path: String
    public var optional: Bool
}

public func EnvFile(_ path: String, optional: Bool = false) -> EnvFileDefinition {
    EnvFileDefinition(path: path, optional: optional)
}
