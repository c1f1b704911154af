import Foundation

/// Settings for connecting that come from swiftfab rather than ssh_config.
public struct ConnectionOptions: Sendable {
    /// `-F FILE`; nil means ~/.ssh/config (missing is fine).
    public var configFile: String?
    /// Used when ssh_config sets no ConnectTimeout.
    public var connectTimeout: Double
    /// Offer ssh-agent keys (SSH_AUTH_SOCK).
    public var useAgent: Bool
    /// Name of an environment variable holding the identity passphrase.
    public var passphraseVariable: String?
    /// Password for password authentication; only used where configured.
    public var password: Secret?
    /// Allow password auth even if ssh_config does not enable it.
    public var allowPassword: Bool
    /// May prompt on the terminal (passphrases, trust confirmations).
    public var interactive: Bool
    /// Overrides ssh_config's StrictHostKeyChecking when set.
    public var strictHostKeyChecking: StrictHostKeyChecking?
    /// The environment to read HOME, USER and SSH_AUTH_SOCK from.
    public var environment: [String: String]

    public init(configFile: String? = nil, connectTimeout: Double = 10, useAgent: Bool = true,
                passphraseVariable: String? = nil, password: Secret? = nil, allowPassword: Bool = false,
                interactive: Bool = isatty(STDIN_FILENO) != 0, strictHostKeyChecking: StrictHostKeyChecking? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.configFile = configFile
        self.connectTimeout = connectTimeout
        self.useAgent = useAgent
        self.passphraseVariable = passphraseVariable
        self.password = password
        self.allowPassword = allowPassword
        self.interactive = interactive
        self.strictHostKeyChecking = strictHostKeyChecking
        self.environment = environment
    }

    /// Loads the ssh config these options name.
    public func loadConfig() throws -> SSHConfig {
        do {
            return try SSHConfig.load(path: configFile, environment: environment)
        } catch {
            throw SwiftFabError(.config, "\(error)", hint: "fix the ssh config file, or name another with -F")
        }
    }
}
