import Foundation
@testable import SwiftFab

/// A real Docker Engine (Debian's docker.io) inside one sandbox host.
///
/// dockerd resolves bind-mount paths in its own mount namespace, and each
/// sandbox host has a private `/srv`: so the daemon is started over ssh, in
/// the host, detached with `setsid`. Its state lives under
/// `/tmp/swiftfab-docker/<host>` (shared with the machine), so the base image
/// loaded once stays for later runs. `stop()` stops exactly the daemon
/// `start` started (its pidfile), with its containerd.
struct DockerEngine {
    let host: String
    let directory: String

    /// What a recipe's `ContainerRuntime(engine:)` runs: the docker CLI of the
    /// same package as the daemon, aimed at this daemon's socket.
    var command: String { "/usr/bin/docker -H unix://\(directory)/docker.sock" }

    /// docker-compose (v1, Debian's) aimed at this daemon.
    var compose: String { "docker-compose -H unix://\(directory)/docker.sock" }

    static let baseImage = "localhost/swiftfab-base:bookworm"
    static let postgresImage = "localhost/swiftfab-postgres:bookworm"

    /// The podman sandbox with the PostgreSQL image built too (once per machine).
    static var podmanWithPostgres: String {
        get async throws { try await podmanWithPostgresSandbox.value }
    }

    private static let podmanWithPostgresSandbox = Task {
        let result = await Shell.runLocally([TestHosts.packageRoot + "/scripts/podman-sandbox", "postgres"])
        guard result.status == 0 else { throw SwiftFabError(.local, "podman sandbox: \(result.output)") }
        return result.output.split(separator: "\n").last.map(String.init) ?? "podman"
    }

    /// Starts the daemon in `host` (after stopping one a crashed run left
    /// there), waits until it answers, and loads the images it lacks from the
    /// podman sandbox (there is no registry here).
    static func start(in host: String, on connection: SSHConnection, images: [String] = [baseImage]) async throws -> DockerEngine {
        let engine = DockerEngine(host: host, directory: "/tmp/swiftfab-docker/" + host)
        let dir = Shell.quote(engine.directory)
        let start = """
            command -v dockerd >/dev/null || { echo 'dockerd is missing: run scripts/setup-sandbox' >&2; exit 1; }
            mkdir -p \(dir) && cd \(dir) || exit 1
            \(DockerEngine.aliveFunction)
            if [ -s dockerd.pid ] && alive "$(cat dockerd.pid)"; then
              old=$(cat dockerd.pid); kill "$old"
              while alive "$old"; do sleep 0.1; done
            fi
            rm -f dockerd.pid docker.sock
            setsid dockerd --iptables=false --ip6tables=false --bridge=none --data-root \(dir)/data --exec-root \(dir)/exec \
              -H unix://\(dir)/docker.sock --pidfile \(dir)/dockerd.pid </dev/null >dockerd.log 2>&1 &
            """
        let started = try await connection.run(.raw(start), ExecOptions(timeout: 60))
        guard started.succeeded else { throw SwiftFabError(.local, "dockerd did not start in \(host): \(started.stderrText)") }
        try await waitFor("dockerd in \(host) to answer", seconds: 60) {
            await Shell.runLocally(["/bin/sh", "-c", engine.command + " info >/dev/null 2>&1"]).status == 0
        }
        for image in images where await Shell.runLocally(["/bin/sh", "-c", engine.command + " image inspect \(image) >/dev/null 2>&1"]).status != 0 {
            let podman = try await image == postgresImage ? podmanWithPostgres : BlueGreenTests.podman
            let load = await Shell.runLocally(["/bin/sh", "-c", "\(podman) save \(image) | \(engine.command) load -q"])
            guard load.status == 0 else { throw SwiftFabError(.local, "loading \(image) into dockerd: \(load.output)") }
        }
        return engine
    }

    /// `alive PID`: runs and is not a zombie (a daemon whose parent went away
    /// waits as one until the machine's init reaps it).
    static let aliveFunction = #"alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' /proc/"$1"/status 2>/dev/null; }"#

    /// Stops the daemon this run started and waits until it is gone.
    func stop(on connection: SSHConnection) async throws {
        let dir = Shell.quote(directory)
        _ = try await connection.run(.raw("""
            \(Self.aliveFunction)
            pid=$(cat \(dir)/dockerd.pid 2>/dev/null) || exit 0
            kill "$pid" 2>/dev/null; while alive "$pid"; do sleep 0.1; done
            """), ExecOptions(timeout: 60))
    }
}
