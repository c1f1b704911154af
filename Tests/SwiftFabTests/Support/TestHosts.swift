import Foundation
import SwiftFab

/// The sandboxed sshd hosts every transport test talks to, started once per
/// test run by `scripts/testhosts` (real OpenSSH on 127.0.0.x, no mocks).
struct TestHosts: Sendable {
    static let count = 53
    static let shared = TestHosts(directory: ProcessInfo.processInfo.environment["SWIFTFAB_TEST_HOSTS_DIR"] ?? "/tmp/swiftfab-test-hosts",
                                  port: Int(ProcessInfo.processInfo.environment["SWIFTFAB_TEST_HOSTS_PORT"] ?? "") ?? 2522)

    /// Starts the hosts once per test run (every sandbox test awaits it; see
    /// `.sandbox`): awaited, never waited for on one of Swift's few threads.
    static func started() async throws {
        let result = await startup.value
        guard result.status == 0 else { throw SwiftFabError(.local, "test hosts did not start:\n\(result.output)") }
    }

    private static let startup = Task {
        await Shell.runLocally([packageRoot + "/scripts/testhosts", "start", String(count)],
                               environment: ["SWIFTFAB_TESTHOSTS_DIR": shared.directory, "SWIFTFAB_TESTHOSTS_PORT": String(shared.port)])
    }

    let directory: String
    let port: Int

    var sshConfig: String { directory + "/ssh_config" }
    var knownHosts: String { directory + "/known_hosts" }
    var clientKey: String { directory + "/client_ed25519" }
    var passphraseKey: String { directory + "/client_passphrase_ed25519" }
    var rsaKey: String { directory + "/client_rsa" }
    var unauthorizedKey: String { directory + "/unauthorized_ed25519" }
    let deployPassword = "deploy-sudo-pw"

    func ip(_ index: Int) -> String { "127.0.0.\(index + 1)" }
    func hostKeyPub(_ index: Int) -> String { directory + "/hosts/th\(index)/ssh_host_ed25519_key.pub" }

    /// Options that never prompt and read nothing from the real ~/.ssh.
    func options(agent: String? = nil, passphraseVariable: String? = nil, extraEnvironment: [String: String] = [:]) -> ConnectionOptions {
        var environment = ["HOME": directory + "/client-home", "USER": "root"]
        if let agent { environment["SSH_AUTH_SOCK"] = agent }
        environment.merge(extraEnvironment) { _, new in new }
        return ConnectionOptions(configFile: sshConfig, connectTimeout: 5, passphraseVariable: passphraseVariable,
                                 interactive: false, environment: environment)
    }

    func config() throws -> SSHConfig { try options().loadConfig() }

    func connect(_ alias: String = "th1") async throws -> SSHConnection {
        try await SSHConnection.connect(alias, config: config(), options: options())
    }

    /// An ssh config of the test's own, with the hosts' defaults plus `extra`.
    func customConfig(_ text: String, options: ConnectionOptions? = nil) throws -> (SSHConfig, ConnectionOptions) {
        let path = try TempDir.make().path + "/ssh_config"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var options = options ?? self.options()
        options.configFile = path
        return (try options.loadConfig(), options)
    }

    /// A `Host` block for test host `index` with settings overridden.
    func block(_ name: String, index: Int, user: String = "root", identity: String? = nil, knownHosts: String? = nil,
               extra: String = "") -> String {
        """
        Host \(name)
            HostName \(ip(index))
            Port \(port)
            User \(user)
            IdentityFile \(identity ?? clientKey)
            IdentitiesOnly yes
            UserKnownHostsFile \(knownHosts ?? self.knownHosts)
            GlobalKnownHostsFile /dev/null
        \(extra)

        """
    }

    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.path
    }()
}

/// Scratch directories, all under one folder per test process that is
/// removed when the process exits.
enum TempDir {
    private static let parent: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftfab-tests-\(getpid())")
        atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.path + "/swiftfab-tests-\(getpid())") }
        return url
    }()

    static func make() throws -> URL {
        let url = parent.appendingPathComponent(String(UUID().uuidString.prefix(8)))
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension Shell {
    /// Runs a local program to completion (test set-up only) on a thread of
    /// its own: a test awaits it, so Swift's cooperative threads (as many as
    /// cores) stay free for the tests that can go on meanwhile.
    static func runLocally(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) async -> (status: Int32, output: String) {
        await onThreadOfItsOwn { runLocallyBlocking(arguments, environment: environment, stdin: stdin) }
    }

    /// The same, blocking its thread: only where `await` cannot be (a `defer`).
    static func runLocallyBlocking(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let input = Pipe()
        process.standardInput = input
        do { try process.run() } catch { return (-1, "\(error)") }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Runs blocking work (a child process, a blocking read) on a new thread and
/// awaits its result.
func onThreadOfItsOwn<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

/// Hosts a script generated an ssh_config for (`TestHosts`, `FreshHosts`).
protocol GeneratedHosts: Sendable {
    func connect(_ alias: String) async throws -> SSHConnection
}

extension TestHosts: GeneratedHosts {}

extension GeneratedHosts {
    /// Connects, runs `body`, and always closes before returning, so no
    /// connection thread outlives its test.
    func withConnection(_ alias: String, _ body: (SSHConnection) async throws -> Void) async throws {
        let connection = try await connect(alias)
        do {
            try await body(connection)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }
}
