import Foundation

/// The options every task run understands, before or after the task's name.
/// One table feeds the parser, `--help` and shell completion.
public struct GlobalOptions: Sendable {
    public var file: String?
    public var environment: String?
    public var hosts: String?
    public var roles: String?
    /// Connect as this user for this run (a fresh server's first provision: --user root).
    public var user: String?
    public var parallel = 50
    public var dryRun = false
    public var json = false
    public var quiet = false
    public var verbose = false
    public var failFast = false
    public var keepGoing = false
    public var sshConfig: String?
    public var passphraseEnv: String?
    public var passwordEnv: String?
    public var connectTimeout: Double = 10
    public var acceptNewHostKeys = false
    /// The launcher compiles the Deployfile named with -f even if another user could have written it (`DeployfileTrust`).
    public var trustDeployfile = false
    public var list = false
    public var listNames = false
    public var help = false
    public var version = false

    public init() {}

    /// What a global option completes to.
    public enum Completion: Sendable { case none, file, environment, host, role }

    public struct Spec: Sendable {
        public var long: String
        public var short: Character?
        /// The value's placeholder; nil for a flag.
        public var value: String?
        public var help: String
        public var hidden = false
        public var completion: Completion = .none
        let apply: @Sendable (inout GlobalOptions, String) throws(CommandLineError) -> Void

        public var usage: String {
            (short.map { "-\($0), " } ?? "    ") + "--" + long + (value.map { " " + $0 } ?? "")
        }
    }

    private static func flag(_ long: String, _ short: Character? = nil, _ help: String, hidden: Bool = false,
                             _ set: @escaping @Sendable (inout GlobalOptions) -> Void) -> Spec {
        Spec(long: long, short: short, value: nil, help: help, hidden: hidden) { options, _ in set(&options) }
    }

    private static func value(_ long: String, _ short: Character? = nil, _ placeholder: String, _ help: String, _ completion: Completion = .none,
                              _ set: @escaping @Sendable (inout GlobalOptions, String) throws(CommandLineError) -> Void) -> Spec {
        Spec(long: long, short: short, value: placeholder, help: help, completion: completion, apply: set)
    }

    public static let specs: [Spec] = [
        value("file", "f", "FILE", "The Deployfile (default: Deployfile.swift here or in a folder above).", .file) { $0.file = $1 },
        value("env", "e", "ENV", "The environment to run in.", .environment) { $0.environment = $1 },
        value("hosts", "H", "HOSTS", "Only these hosts of the environment (comma separated; without an environment: any hosts).", .host) { $0.hosts = $1 },
        value("roles", "R", "ROLES", "Only hosts with these roles (comma separated).", .role) { $0.roles = $1 },
        value("user", "u", "USER", "Connect as USER for this run, whatever the Deployfile says (a fresh server: provision --user root).") { $0.user = $1 },
        flag("dry-run", nil, "Show what would run on each host, connecting to nothing.") { $0.dryRun = true },
        flag("json", nil, "Write one JSON event per line instead of text.") { $0.json = true },
        flag("quiet", "q", "Only task headers, failures and results.") { $0.quiet = true },
        flag("verbose", "v", "Also each command's details, result and time.") { $0.verbose = true },
        value("parallel", nil, "N", "How many hosts to work on at once (default 50).") { options, text throws(CommandLineError) in
            guard let count = Int(text), count >= 1 else { throw CommandLineError("--parallel takes a number of hosts, 1 or more, not \(Shell.quote(text))") }
            options.parallel = count
        },
        flag("fail-fast", nil, "Stop starting hosts after the first failure.") { $0.failFast = true },
        flag("keep-going", nil, "Carry on with the other hosts after a failure.") { $0.keepGoing = true },
        flag("trust-deployfile", nil, "Run the Deployfile named with -f even if someone else owns it or could write it (read it first).") {
            $0.trustDeployfile = true
        },
        value("ssh-config", "F", "FILE", "ssh config file (default ~/.ssh/config).", .file) { $0.sshConfig = $1 },
        value("connect-timeout", nil, "SECONDS", "Seconds to wait for a host, unless the ssh config sets ConnectTimeout.") { options, text throws(CommandLineError) in
            guard let seconds = Double(text), seconds > 0, seconds.isFinite else { throw CommandLineError("--connect-timeout takes seconds, more than 0, not \(Shell.quote(text))") }
            options.connectTimeout = seconds
        },
        value("passphrase-env", nil, "VAR", "Environment variable holding the identity file's passphrase.") { $0.passphraseEnv = $1 },
        value("password-env", nil, "VAR", "Environment variable holding a login password (password auth is off otherwise).") { $0.passwordEnv = $1 },
        flag("accept-new-host-keys", nil, "Trust and record unknown host keys (changed keys are still refused).") { $0.acceptNewHostKeys = true },
        flag("list", "l", "List the tasks (with --json: tasks, options, roles and environments as JSON).") { $0.list = true },
        flag("list-names", nil, "Task names, one a line.", hidden: true) { $0.listNames = true },
        flag("help", "h", "Show help (after a task's name: that task's options).") { $0.help = true },
        flag("version", "V", "Show swiftfab's version.") { $0.version = true },
    ]

    /// The help of the option named `long`: `exec`, `put` and `get` say the same as tasks.
    public static func help(_ long: String) -> String {
        guard let spec = specs.first(where: { $0.long == long }) else { preconditionFailure("no global option --\(long)") }
        return spec.help
    }

    /// The spec a word such as `-e`, `--env` or `--env=prod` names.
    static func spec(for word: String) -> Spec? {
        if word.hasPrefix("--") {
            let name = String(word.dropFirst(2).prefix { $0 != "=" })
            return specs.first { $0.long == name }
        }
        guard word.count == 2, word.hasPrefix("-") else { return nil }
        return specs.first { $0.short == word.last }
    }

    /// ConnectionOptions as these options ask (unknown environment variables are errors here).
    public func connection(environmentConfig: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConnectionOptions {
        var options = ConnectionOptions(configFile: sshConfig ?? environmentConfig, connectTimeout: connectTimeout,
                                        passphraseVariable: passphraseEnv, environment: environment)
        for name in [passphraseEnv, passwordEnv].compactMap({ $0 }) where environment[name] == nil {
            throw CommandLineError("the environment variable \(name) is not set", hint: "export it, or leave the option out")
        }
        if let passwordEnv, let password = environment[passwordEnv] {
            options.password = Secret(password)
            options.allowPassword = true
        }
        if acceptNewHostKeys { options.strictHostKeyChecking = .acceptNew }
        return options
    }

    /// The global options as `--help` shows them.
    public static var helpText: String {
        let visible = specs.filter { !$0.hidden }
        let width = visible.map(\.usage.count).max() ?? 0
        return visible.map { "  " + $0.usage.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.help }.joined(separator: "\n")
    }
}

/// A command line that cannot be run: said before anything connects, exit 64.
public struct CommandLineError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var hint: String?
    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
    public var description: String { message + (hint.map { "\n  " + $0 } ?? "") }
}

extension String {
    /// Nothing but whitespace, or nothing: a command-line word that names
    /// nothing (an unset variable, a stray pair of quotes). On Unicode scalars.
    public var isBlank: Bool { unicodeScalars.allSatisfy(\.properties.isWhitespace) }
}
