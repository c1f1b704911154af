import Foundation
import SwiftFab

/// Fresh Debian 12 servers, as a new VPS is (`scripts/freshhosts`): systemd as
/// PID 1 and only sshd running, their own /etc, /var, users and package
/// database, Debian's mirrors reachable, root's key authorized. Unlike
/// `TestHosts` they share nothing with the machine, so provisioning,
/// `apt-get install`, users and reboots can be tested for real. Each is a
/// podman container in a network namespace of its own: the machine reaches
/// host I at `ip(I)`, port `port` for ssh and ports 80 and 443 forwarded to
/// its own; from a host, 10.0.2.2 is the machine's 127.0.0.1.
struct FreshHosts: GeneratedHosts {
    /// One per suite that runs at the same time as the others (each resets its own).
    static let count = 2
    static let shared: FreshHosts = {
        let environment = ProcessInfo.processInfo.environment
        return FreshHosts(directory: environment["SWIFTFAB_TEST_FRESH_HOSTS_DIR"] ?? "/tmp/swiftfab-test-fresh-hosts",
                          firstAddress: environment["SWIFTFAB_TEST_FRESH_HOSTS_ADDRESS"] ?? "127.0.3.1",
                          port: Int(environment["SWIFTFAB_TEST_FRESH_HOSTS_PORT"] ?? "") ?? 2622)
    }()

    /// Starts the hosts once per test process (the first time, it builds their
    /// image: two to three minutes); awaited, never waited for on one of Swift's
    /// few threads. `scripts/test` stops them when the run ends.
    static func started() async throws {
        try await startup.value
    }

    private static let startup = Task { try await shared.script("start", String(count)) }

    let directory: String
    let firstAddress: String
    let port: Int
    let httpPort = 80
    let httpsPort = 443

    var sshConfig: String { directory + "/ssh_config" }
    var knownHosts: String { directory + "/known_hosts" }
    var clientKey: String { directory + "/client_ed25519" }

    func alias(_ index: Int) -> String { "fresh\(index)" }

    func ip(_ index: Int) -> String {
        var octets = firstAddress.split(separator: ".").map(String.init)
        octets[3] = String(Int(octets[3])! + index - 1)
        return octets.joined(separator: ".")
    }

    /// Options that never prompt and read nothing from the real ~/.ssh.
    func options() -> ConnectionOptions {
        ConnectionOptions(configFile: sshConfig, connectTimeout: 10, interactive: false,
                          environment: ["HOME": directory + "/client-home", "USER": "root"])
    }

    func connect(_ alias: String = "fresh1") async throws -> SSHConnection {
        try await SSHConnection.connect(alias, config: options().loadConfig(), options: options())
    }

    /// Restarts host `index` as a reboot would (systemd shuts down, boots
    /// again; the disk stays, /run and /tmp do not) and returns once its sshd
    /// answers and its boot is over. Connections to it are cut.
    func reboot(_ index: Int) async throws {
        try await script("reboot", String(index))
    }

    /// Replaces host `index` by a new one from the image (new disk, new host
    /// keys in known_hosts): a test that needs a pristine server starts here.
    func reset(_ index: Int) async throws {
        try await script("reset", String(index))
    }

    private func script(_ arguments: String...) async throws {
        let result = await Shell.runLocally([TestHosts.packageRoot + "/scripts/freshhosts"] + arguments, environment: [
            "SWIFTFAB_FRESHHOSTS_DIR": directory, "SWIFTFAB_FRESHHOSTS_ADDRESS": firstAddress, "SWIFTFAB_FRESHHOSTS_PORT": String(port),
            "SWIFTFAB_FRESHHOSTS_HTTP_PORT": String(httpPort), "SWIFTFAB_FRESHHOSTS_HTTPS_PORT": String(httpsPort),
        ])
        guard result.status == 0 else {
            throw SwiftFabError(.local, "scripts/freshhosts \(arguments.joined(separator: " ")) failed:\n\(result.output)")
        }
    }
}
