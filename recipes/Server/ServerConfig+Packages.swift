import SwiftFab

/// An apt package provision installs, and what in the config needs it.
public struct NeededPackage: Sendable, Equatable {
    public var name: String
    public var why: String

    public init(_ name: String, why: String) {
        self.name = name
        self.why = why
    }
}

extension ServerConfig {
    /// What this config needs on a host, each package once with what needs it;
    /// `packages:` replaces the list. Nothing on the host uses git: releases
    /// are shipped as archives. The database's own server is its own step
    /// (`ProvisionPlan.databaseServer`). `systemd`: the boot service is a
    /// unit there, a supervisor program elsewhere.
    public func neededPackages(systemd: Bool) -> [NeededPackage] {
        if let packages { return packages.map { NeededPackage($0, why: "packages: in ServerConfig") } }
        var needed: [NeededPackage] = [NeededPackage("curl", why: "health checks")]
        func need(_ name: String, _ why: String) {
            if !needed.contains(where: { $0.name == name }) { needed.append(NeededPackage(name, why: why)) }
        }
        func engine(_ command: String, _ why: String) {
            let words = command.split(separator: " ")
            if words.contains("docker") { need("docker.io", why) }
            if words.contains("podman") { need("podman", why) }
            if words.contains("docker-compose") || words.contains("compose") { need("docker.io", why); need("docker-compose", why) }
            if words.contains("podman-compose") { need("podman", why); need("podman-compose", why) }
        }
        if let package = SlotCommands(config: app).runtime.needs.package { need(package, "the slots' processes") }
        for (command, why) in engines { engine(command, why) }
        switch boot {
        case .supervisor: need("supervisor", "the boot service")
        case .automatic where !systemd: need("supervisor", "the boot service (no systemd)")
        default: break
        }
        if proxy != nil { need("nginx", "the proxy site") }
        // The database server step installs the server with its client tools; elsewhere the client comes alone.
        let serverHere = database.map { $0.runsOnTheHost && $0.server != nil } ?? false
        if !serverHere && (postgres != nil || database?.config.runsIn == .host) {
            need("postgresql-client", "pg_isready, and pg_dump and psql for the database")
        }
        return needed
    }

    /// The container engines' commands the deploy user runs, with what for.
    var engines: [(command: String, why: String)] {
        var engines: [(String, String)] = []
        if let engine = SlotCommands(config: app).runtime.needs.engine { engines.append((engine, "the slots' containers")) }
        if !composeFiles.isEmpty { engines.append((composeCommand, "the compose projects beside the app")) }
        switch database?.config.runsIn {
        case .container(_, let command), .compose(_, _, let command): engines.append((command, "the database's container"))
        default: break
        }
        return engines
    }

    /// Whether any of them is Docker's (its `docker` group lets the deploy user in).
    var runsDocker: Bool {
        engines.contains { $0.command.split(separator: " ").contains { $0 == "docker" || $0 == "docker-compose" } }
    }
}
