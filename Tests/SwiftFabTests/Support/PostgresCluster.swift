import Foundation
@testable import SwiftFab

/// A real PostgreSQL cluster (Debian 12's 15, or whatever major version the
/// distribution installed) inside a test host's namespace: initdb into
/// a private dir under /srv, the server on the host's own loopback address.
/// TCP logins need the password (scram); the local socket is trusted, for the tests' own queries.
struct PostgresCluster {
    /// The newest installed server's binaries.
    static let bin: String = {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let newest = versions.compactMap(Int.init).max().map(String.init) ?? "15"
        return "/usr/lib/postgresql/\(newest)/bin"
    }()
    let hosts: TestHosts
    let index: Int
    let dir: String
    let password: String
    let port = 5432
    /// Set when the server runs in a compose service on a Docker Engine
    /// inside the host, from the PostgreSQL image, on the same data
    /// directory and socket folder (bind-mounted at the same paths).
    var compose: ComposeService?
    var alias: String { "th\(index)" }

    struct ComposeService {
        let engine: DockerEngine
        let file: String
        let container: String
        let service = "db"
        /// More services of the same project (YAML at the services' indent), e.g. the app's proxy.
        var beside = ""
    }
    var ip: String { hosts.ip(index) }

    /// Starts a fresh cluster (stopping whatever a previous run left on this host).
    static func start(_ hosts: TestHosts, index: Int, password: String, in engine: DockerEngine? = nil, beside: String = "") async throws -> PostgresCluster {
        let id = UUID().uuidString.prefix(6).lowercased()
        var cluster = PostgresCluster(hosts: hosts, index: index, dir: "/srv/pg-\(id)", password: password)
        cluster.compose = engine.map { ComposeService(engine: $0, file: cluster.dir + "/docker-compose.yml", container: "pgt-db-\(id)", beside: beside) }
        let script = """
            set -e
            for d in /srv/pg-*/data; do [ -f "$d/postmaster.pid" ] && runuser -u postgres -- \(bin)/pg_ctl -D "$d" stop -m immediate >/dev/null 2>&1 || true; done
            for m in /srv/backups-*; do mountpoint -q "$m" && umount "$m"; done; rm -rf /srv/pg-* /srv/backups-*
            mkdir -p \(cluster.dir) && chown postgres: \(cluster.dir)
            printf '%s\\n' \(Shell.quote(password)) > \(cluster.dir)/pw && chown postgres: \(cluster.dir)/pw
            runuser -u postgres -- \(bin)/initdb -D \(cluster.dir)/data -U postgres --auth-local=trust --auth-host=scram-sha-256 \
              --pwfile=\(cluster.dir)/pw -E UTF8 --locale=C.UTF-8 >/dev/null
            rm -f \(cluster.dir)/pw
            """
        let made = await cluster.remote(script)
        guard made.status == 0 else { throw SwiftFabError(.command, "initdb failed: \(made.output)") }
        try await cluster.startServer()
        return cluster
    }

    func startServer() async throws {
        if let compose { return try await startService(compose) }
        let started = await remote("""
            runuser -u postgres -- \(Self.bin)/pg_ctl -D \(dir)/data -l \(dir)/server.log -w \
              -o \(Shell.quote("-c listen_addresses=\(ip) -p \(port) -k \(dir)")) start </dev/null >/dev/null 2>&1 || { tail -5 \(dir)/server.log; exit 1; }
            """)
        guard started.status == 0 else { throw SwiftFabError(.command, "pg_ctl start failed: \(started.output)") }
    }

    func stop() async { _ = await remote(stopScript) }

    /// The same for a `defer`, where nothing can be awaited: it blocks its thread for the stop.
    func stopBlocking() { _ = remoteBlocking(stopScript) }

    private var stopScript: String {
        if let compose { return "\(compose.engine.compose) -f \(compose.file) down >/dev/null 2>&1" }
        return "runuser -u postgres -- \(Self.bin)/pg_ctl -D \(dir)/data stop -m fast >/dev/null 2>&1"
    }

    /// The seeds' stack: postgres as a compose service, host networking (no
    /// bridge here), its data and socket in a bind mount (PGHOST in the
    /// service names that socket, as the official image's default socket would be found).
    private func startService(_ compose: ComposeService) async throws {
        let file = """
            version: "2.4"
            services:
              \(compose.service):
                image: \(DockerEngine.postgresImage)
                container_name: \(compose.container)
                network_mode: host
                user: postgres
                stop_signal: SIGINT
                volumes: ["\(dir):\(dir)"]
                environment: ["PGHOST=\(dir)", "PGPORT=\(port)"]
                command: ["\(Self.bin)/postgres", "-D", "\(dir)/data", "-c", "listen_addresses=\(ip)", "-p", "\(port)", "-k", "\(dir)"]
            \(compose.beside)
            """
        let started = await remote("""
            printf '%s\\n' \(Shell.quote(file)) > \(compose.file) && \(compose.engine.compose) -f \(compose.file) up -d 2>&1 || exit 1
            for i in $(seq 1 600); do \(Self.bin)/pg_isready -q -h \(dir) -p \(port) && exit 0; sleep 0.1; done
            \(compose.engine.command) logs --tail 20 \(compose.container) 2>&1; exit 1
            """)
        guard started.status == 0 else { throw SwiftFabError(.command, "postgres in compose did not start: \(started.output)") }
    }

    /// Runs SQL through the trusted local socket; returns its unaligned output.
    @discardableResult
    func sql(_ query: String, database: String = "postgres") async -> String {
        await remote(psql(query, database: database)).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The same for a `defer`, where nothing can be awaited.
    func sqlBlocking(_ query: String, database: String = "postgres") {
        _ = remoteBlocking(psql(query, database: database))
    }

    private func psql(_ query: String, database: String) -> String {
        "\(Self.bin)/psql -h \(dir) -p \(port) -U postgres -d \(Shell.quote(database)) -Atq -v ON_ERROR_STOP=1 -c \(Shell.quote(query))"
    }

    /// A checksum of each table's whole content, in key order.
    func checksums(_ tables: [String], database: String) async -> [String: String] {
        var sums: [String: String] = [:]
        for table in tables {
            sums[table] = await sql("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t.id)), '-') FROM \(table) t", database: database)
        }
        return sums
    }

    /// A database with three tables and thousands of rows (data that compresses badly, so a dump is > 1 MB).
    func populate(_ database: String) async {
        await sql("CREATE DATABASE \(database)")
        await sql("""
            CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL);
            INSERT INTO customers SELECT g, 'customer ' || g, 'user' || g || '@example.com' FROM generate_series(1, 5000) g;
            CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, total numeric(10,2), token text, placed timestamptz);
            INSERT INTO orders SELECT g, g % 5000 + 1, g * 1.25, md5(g::text), '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 40000) g;
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            INSERT INTO notes SELECT g, repeat('note ' || g || ' ', 3) FROM generate_series(1, 3000) g;
            """, database: database)
    }

    func remote(_ script: String) async -> (status: Int32, output: String) {
        await Shell.runLocally(sshCommand(script))
    }

    /// The same for a `defer`, where nothing can be awaited.
    func remoteBlocking(_ script: String) -> (status: Int32, output: String) {
        Shell.runLocallyBlocking(sshCommand(script))
    }

    private func sshCommand(_ script: String) -> [String] { ["/usr/bin/ssh", "-F", hosts.sshConfig, alias, script] }
}
