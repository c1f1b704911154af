import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// The PostgreSQL backup recipe against real PostgreSQL 15 clusters the
/// tests start on sandbox hosts: round trips compared table by table,
/// backups under concurrent writes, and every refusal the issue names.
@Suite(.serialized) struct PostgresTests {
    var hosts: TestHosts { .shared }
    static let password = "pg-Secret-\(UUID().uuidString.prefix(8))"
    static let tables = ["customers", "orders", "notes"]

    /// One Deployfile for every CLI test (compiled once): hosts and paths come from the environment.
    static let deployfile = """
        import Foundation
        import SwiftFab
        import SwiftFabRecipes

        let env = ProcessInfo.processInfo.environment
        let runsIn: PostgresConfig.Location = env["PGT_COMPOSE"].map { .compose(service: "db", file: $0, engine: env["PGT_ENGINE"]!) }
            ?? env["PGT_CONTAINER"].map { .container($0, engine: env["PGT_ENGINE"]!) } ?? .host
        let deployfile = Deployfile("pgtest") {
            Environment("test") { Host(env["PGT_HOST"] ?? "th34", roles: .db) }
            Setting("db_password", .secret(env: "PGT_PASSWORD"))
            Postgres(PostgresConfig(database: env["PGT_DB"] ?? "shop", host: env["PGT_IP"], port: 5432,
                                    passwordSetting: "db_password", runsIn: runsIn, backups: env["PGT_BACKUPS"]))
        }
        """

    /// The first `shop-<stamp>.dump` named in the output.
    static func backupName(in output: String) -> String? {
        output.range(of: "shop-[0-9]{8}T[0-9]{6}Z\\.dump", options: .regularExpression).map { String(output[$0]) }
    }

    struct CLI {
        let hosts: TestHosts
        let dir: String
        var environment: [String: String]

        init(hosts: TestHosts, cluster: PostgresCluster, database: String, backups: String) throws {
            self.hosts = hosts
            dir = try TempDir.make().path
            try PostgresTests.deployfile.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
            environment = ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache, "PGT_HOST": cluster.alias, "PGT_IP": cluster.ip,
                           "PGT_DB": database, "PGT_BACKUPS": backups, "PGT_PASSWORD": PostgresTests.password]
        }

        func callAsFunction(_ arguments: String...) async -> (status: Int32, output: String) {
            await run(arguments)
        }

        /// Standard output alone (what a pipe gets).
        func stdout(_ arguments: String...) async -> (status: Int32, output: String) {
            await run(arguments, redirect: " 2>/dev/null")
        }

        func run(_ arguments: [String], redirect: String = "") async -> (status: Int32, output: String) {
            let script = "cd \(Shell.quote(dir)) && exec " + Shell.join([CLITests.binary] + arguments + ["-F", hosts.sshConfig]) + " </dev/null" + redirect
            return await Shell.runLocally(["/bin/sh", "-c", script], environment: environment)
        }
    }

    /// Backup (and download), change the data, restore: every table is as it was.
    @Test(.timeLimit(.minutes(3)), .sandbox) func backupChangeRestoreThroughTheCommandLine() async throws {
        let cluster = try await PostgresCluster.start(hosts, index: 34, password: Self.password)
        defer { cluster.stopBlocking() }
        await cluster.populate("shop")
        let original = await cluster.checksums(Self.tables, database: "shop")
        #expect(original["orders"]?.hasPrefix("40000:") == true, "\(original)")
        let backups = "/srv/backups-shop-\(UUID().uuidString.prefix(6))"
        let swiftfab = try CLI(hosts: hosts, cluster: cluster, database: "shop", backups: backups)

        let list = await swiftfab("--list")
        for task in ["backup", "backups", "restore [NAME]", "prune-backups"] { #expect(list.output.contains("  \(task) "), "\(list.output)") }

        // --dry-run shows the real commands and never the password.
        let dry = await swiftfab("backup", "--dry-run", "-v")
        #expect(dry.status == 0 && dry.output.contains("pg_dump -Fc --lock-wait-timeout=60s -U postgres -h \(cluster.ip) -p 5432 -d shop"), "\(dry.output)")
        #expect(dry.output.contains("PGPASSWORD=[secret]") && dry.output.contains("tee \"$f.partial\"") && dry.output.contains("sha256sum"))
        let dryRestore = await swiftfab("restore", "shop-20260101T000000Z.dump", "--dry-run", "-v")
        #expect(dryRestore.status == 0 && dryRestore.output.contains("--clean --if-exists --single-transaction"), "\(dryRestore.output)")
        #expect(!dry.output.contains(Self.password) && !dryRestore.output.contains(Self.password))

        let local = try TempDir.make().path
        let backup = await swiftfab("backup", "--download", local)
        #expect(backup.status == 0, "\(backup.output)")
        #expect(!backup.output.contains(Self.password))
        let name = try #require(Self.backupName(in: backup.output), "\(backup.output)")
        #expect(backup.output.contains("downloaded to \(local)/\(name) (sha256 matches the server's)"))
        // The downloaded copy is the server's file, byte for byte.
        let serverSum = await cluster.remote("cut -c1-64 \(backups)/\(name).sha256").output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(serverSum.count == 64)
        #expect(try LocalFiles.sha256("\(local)/\(name)") == serverSum)
        await #expect(cluster.remote("ls \(backups)").output.split(separator: "\n").map(String.init).sorted() == [name, name + ".sha256"])
        await #expect(cluster.remote("stat -c %a \(backups)/\(name)").output.hasPrefix("600"))

        let listing = await swiftfab("backups")
        #expect(listing.status == 0 && listing.output.contains(name) && listing.output.contains(" ok"), "\(listing.output)")
        // For a pipe: the table alone (the host's progress is on stderr).
        let table = await swiftfab.stdout("backups")
        let rows = table.output.split(separator: "\n").map(String.init)
        #expect(table.status == 0 && rows.count == 2 && rows[0].hasPrefix("NAME ") && rows[1].hasPrefix(name + "  ") && rows[1].hasSuffix("  ok"),
                "\(table.output)")

        // An empty name names no backup: refused before anything connects.
        for words in [["restore", "", "--yes"], ["restore", " ", "--yes"], ["restore", "--from-local", "", "--yes"]] {
            let empty = await swiftfab.run(words)
            #expect(empty.status == 64 && (empty.output.contains("NAME is empty") || empty.output.contains("--from-local needs a FILE")), "\(words): \(empty.output)")
        }

        // Change the data, then restore.
        await cluster.sql("DELETE FROM orders WHERE id % 3 = 0; UPDATE customers SET name = 'changed'; DROP TABLE notes;", database: "shop")
        await #expect(cluster.checksums(["customers", "orders"], database: "shop") != original.filter { $0.key != "notes" })

        // No terminal and no --yes: refused before anything happens.
        let unconfirmed = await swiftfab("restore", name)
        #expect(unconfirmed.status != 0 && unconfirmed.output.contains("pass --yes"), "\(unconfirmed.output)")
        await #expect(!cluster.remote("ls \(backups)").output.contains(".safety.dump"))

        let restored = await swiftfab("restore", name, "--yes")
        #expect(restored.status == 0, "\(restored.output)")
        #expect(restored.output.contains("restored \(name) into shop: 3 tables in "), "\(restored.output)")
        #expect(restored.output.contains("safety backup of the current database: \(backups)/shop-"))
        await #expect(cluster.checksums(Self.tables, database: "shop") == original)
        #expect(!restored.output.contains(Self.password))

        // From this machine: the server's copy gone, the downloaded one goes up (checked) and restores.
        await cluster.sql("UPDATE orders SET total = 0", database: "shop")
        _ = await cluster.remote("rm \(backups)/\(name) \(backups)/\(name).sha256")
        let fromLocal = await swiftfab("restore", "--from-local", "\(local)/\(name)", "--yes")
        #expect(fromLocal.status == 0 && fromLocal.output.contains("uploaded \(local)/\(name) as \(backups)/\(name) (sha256 checked)"), "\(fromLocal.output)")
        await #expect(cluster.checksums(Self.tables, database: "shop") == original)

        // Retention: the newest backup and young safety backups stay whatever --keep says.
        // The next backup's name must differ: names carry the second they were taken.
        let second = Int(Date().timeIntervalSince1970)
        while Int(Date().timeIntervalSince1970) == second { try await Task.sleep(for: .milliseconds(20)) }
        await #expect(swiftfab("backup").status == 0)
        _ = await cluster.remote("cd \(backups) && touch -d '2 days ago' shop-20200101T000000Z.dump.partial && touch shop-20990101T000000Z.dump.partial")
        let pruned = await swiftfab("prune-backups", "--keep", "1")
        #expect(pruned.status == 0 && pruned.output.contains("removed 2: \(name), shop-20200101T000000Z.dump.partial"), "\(pruned.output)")
        _ = await cluster.remote("rm \(backups)/shop-20990101T000000Z.dump.partial")
        let left = await cluster.remote("ls \(backups)").output
        #expect(left.components(separatedBy: ".safety.dump.sha256").count - 1 == 2, "\(left)")
        #expect(!left.contains(name + "\n") && !left.contains(".partial"))
        await #expect(swiftfab("prune-backups").output.contains("no retention is set"))
    }

    /// The seeds' stack: PostgreSQL as a docker-compose service on a real
    /// Docker Engine. The recipe reaches it through `docker-compose exec` and
    /// through `docker exec` on its container, with the guarantees it gives
    /// on a host: checksummed backups, a safety backup before a restore in
    /// one transaction, a damaged dump refused with the database untouched.
    @Test(.timeLimit(.minutes(5)), .sandbox) func backupsAndRestoresOfAComposeServiceAndOfItsContainer() async throws {
        try await hosts.withConnection("th49") { connection in
            let docker = try await DockerEngine.start(in: "th49", on: connection, images: [DockerEngine.postgresImage])
            do {
                try await roundTripsThroughTheEngine(docker)
            } catch {
                try? await docker.stop(on: connection)
                throw error
            }
            try await docker.stop(on: connection)
        }
    }

    private func roundTripsThroughTheEngine(_ docker: DockerEngine) async throws {
        let cluster = try await PostgresCluster.start(hosts, index: 49, password: Self.password, in: docker)
        defer { cluster.stopBlocking() }
        let service = try #require(cluster.compose)
        await cluster.populate("shop")
        for mode in ["compose", "container"] {
            let before = await cluster.checksums(Self.tables, database: "shop")
            #expect(before["orders"]?.hasPrefix("40000:") == true, "\(before)")
            let backups = "/srv/backups-\(mode)-\(UUID().uuidString.prefix(6))"
            var swiftfab = try CLI(hosts: hosts, cluster: cluster, database: "shop", backups: backups)
            swiftfab.environment["PGT_ENGINE"] = mode == "compose" ? docker.compose : docker.command
            swiftfab.environment[mode == "compose" ? "PGT_COMPOSE" : "PGT_CONTAINER"] = mode == "compose" ? service.file : service.container

            let dry = await swiftfab("backup", "--dry-run", "-v")
            let tool = mode == "compose" ? "\(docker.compose) -f \(service.file) exec -T -e PGPASSWORD db pg_dump"
                                         : "\(docker.command) exec -i -e PGPASSWORD \(service.container) pg_dump"
            #expect(dry.status == 0 && dry.output.contains(tool), "\(dry.output)")

            let backup = await swiftfab("backup")
            #expect(backup.status == 0, "\(backup.output)")
            #expect(!backup.output.contains(Self.password))
            let name = try #require(Self.backupName(in: backup.output), "\(backup.output)")
            await #expect(cluster.remote("cd \(backups) && sha256sum -c --status \(name).sha256 && [ $(stat -c %s \(name)) -gt 1000000 ]").status == 0)
            let listing = await swiftfab("backups")
            #expect(listing.status == 0 && listing.output.contains(name) && listing.output.contains(" ok"), "\(listing.output)")

            await cluster.sql("DELETE FROM orders WHERE id % 3 = 0; UPDATE customers SET name = 'changed'; DROP TABLE notes;", database: "shop")
            let restored = await swiftfab("restore", name, "--yes")
            #expect(restored.status == 0 && restored.output.contains("restored \(name) into shop: 3 tables in "), "\(restored.output)")
            #expect(restored.output.contains("safety backup of the current database: \(backups)/shop-"), "\(restored.output)")
            await #expect(cluster.checksums(Self.tables, database: "shop") == before)

            // A damaged dump: refused before the database is touched.
            await cluster.sql("UPDATE orders SET total = 0 WHERE id = 1", database: "shop")
            let changed = await cluster.checksums(Self.tables, database: "shop")
            _ = await cluster.remote("printf x >> \(backups)/\(name)")
            let refused = await swiftfab("restore", name, "--yes")
            #expect(refused.status != 0 && refused.output.contains("does not match its sha256"), "\(refused.output)")
            await #expect(cluster.checksums(Self.tables, database: "shop") == changed)

            // Retention: a damaged backup is kept for a person to look at; once whole again, the older one goes,
            // the newer one and the young safety backup stay.
            let second = Int(Date().timeIntervalSince1970)
            while Int(Date().timeIntervalSince1970) == second { try await Task.sleep(for: .milliseconds(20)) }
            let newer = await swiftfab("backup")
            let newest = try #require(Self.backupName(in: newer.output), "\(newer.output)")
            let kept = await swiftfab("prune-backups", "--keep", "1")
            #expect(kept.status == 0 && kept.output.contains("kept for a person to look at (checksum fails): \(name)"), "\(kept.output)")
            _ = await cluster.remote("truncate -s -1 \(backups)/\(name)")
            let pruned = await swiftfab("prune-backups", "--keep", "1")
            #expect(pruned.status == 0 && pruned.output.contains("removed 1: \(name)"), "\(pruned.output)")
            let left = await cluster.remote("ls \(backups)").output
            #expect(left.contains(newest + "\n") && !left.contains(name + "\n") && left.contains(".safety.dump"), "\(left)")
        }
    }

    /// A backup taken while transfers commit is one consistent snapshot.
    @Test(.timeLimit(.minutes(2)), .sandbox) func backupUnderConcurrentWritesIsConsistent() async throws {
        let cluster = try await PostgresCluster.start(hosts, index: 35, password: Self.password)
        defer { cluster.stopBlocking() }
        await cluster.sql("CREATE DATABASE bank")
        await cluster.sql("""
            CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
            INSERT INTO accounts SELECT g, 1000 FROM generate_series(1, 1000) g;
            CREATE TABLE ledger (id bigserial PRIMARY KEY, src int, dst int, amount int, memo text);
            CREATE TABLE stats (id int PRIMARY KEY, transfers bigint NOT NULL); INSERT INTO stats VALUES (1, 0);
            INSERT INTO ledger (src, dst, amount, memo) SELECT 0, 0, 0, md5(g::text) FROM generate_series(1, 100000) g;
            UPDATE stats SET transfers = 100000;
            """, database: "bank")
        // Transfers stream into one psql session until killed: each moves money and counts itself.
        let writer = """
            trap 'echo "writer: TERM at $(date +%s.%N)" >&2; exit 143' TERM; \
            i=0; while :; do i=$((i+1)); a=$((i % 1000 + 1)); b=$(((i * 7) % 1000 + 1)); \
            echo "BEGIN; UPDATE accounts SET balance = balance - 7 WHERE id = $a; UPDATE accounts SET balance = balance + 7 WHERE id = $b; \
            INSERT INTO ledger (src, dst, amount, memo) VALUES ($a, $b, 7, md5('$i')); UPDATE stats SET transfers = transfers + 1; COMMIT;"; done \
            | \(PostgresCluster.bin)/psql -h \(cluster.dir) -p 5432 -U postgres -d bank -q >/dev/null 2>>\(cluster.dir)/writer.err; \
            echo "writer: ended $? at $(date +%s.%N)" >&2
            """
        let startWriter = "printf '%s\\n' \(Shell.quote(writer)) > \(cluster.dir)/writer.sh && (nohup setsid sh \(cluster.dir)/writer.sh </dev/null >/dev/null 2>>\(cluster.dir)/writer.log & echo $! > \(cluster.dir)/writer.pid)"
        let stopWriter = "p=$(cat \(cluster.dir)/writer.pid); kill -- -$p 2>/dev/null; for i in $(seq 100); do kill -0 -- -$p 2>/dev/null || break; sleep 0.05; done"
        _ = await cluster.remote(startWriter)
        defer { _ = cluster.remoteBlocking(stopWriter) }
        func transfers() async -> Int { Int(await cluster.sql("SELECT transfers FROM stats", database: "bank")) ?? -1 }
        try await waitFor("the writer to write") { await transfers() > 0 }
        let before = await transfers()

        let config = PostgresConfig(database: "bank", host: cluster.ip, port: 5432, backups: "/srv/backups-bank-\(UUID().uuidString.prefix(6))",
                                    pauseWrites: WritePause("the test writer", stop: stopWriter, resume: startWriter))
        let worker = PostgresOperator(config: config, password: Secret(Self.password))
        let name = BackupCatalog.name(database: "bank", at: Date())
        var taken: PostgresOperator.Backup?
        try await hosts.withConnection(cluster.alias) { connection in
            taken = try await worker.backup(on: connection, name: name)
        }
        let after = await transfers()
        _ = await cluster.remote(stopWriter)
        #expect(after > before, "no writes ran during the backup (\(before) -> \(after))")

        try await hosts.withConnection(cluster.alias) { connection in
            let restored = try await worker.restore(on: connection, name: name, confirm: { _ in })
            #expect(restored.tables == 3)
        }
        // The restored snapshot is one moment: money is conserved and every counted transfer is in the ledger.
        await #expect(cluster.sql("SELECT sum(balance) FROM accounts", database: "bank") == "1000000")
        let restoredTransfers = await transfers()
        await #expect(cluster.sql("SELECT count(*) FROM ledger", database: "bank") == String(restoredTransfers))
        #expect(restoredTransfers >= before && restoredTransfers <= after, "\(before) <= \(restoredTransfers) <= \(after)")

        // Restoring while the writer runs, with writes paused: stopped, restored, started again.
        _ = await cluster.remote(startWriter)
        try await waitFor("the writer to write again") { await transfers() > restoredTransfers }
        let notes = Notes()
        try await hosts.withConnection(cluster.alias) { connection in
            _ = try await worker.restore(on: connection, name: name, confirm: { _ in }, pauseWrites: { true }, note: notes.add)
        }
        #expect(notes.lines.contains("stopped the test writer for the restore"), "\(notes.lines)")
        #expect(notes.lines.contains { $0.hasPrefix("started the test writer again after ") }, "\(notes.lines)")
        await #expect(cluster.remote("kill -0 $(cat \(cluster.dir)/writer.pid)").status == 0, "the writer runs again")
        // Started again after the restore (which put the counter back to the snapshot's), it writes on.
        do {
            try await waitFor("the writer to write after the restore") { await transfers() > restoredTransfers }
        } catch {
            Issue.record("\(error): transfers \(await transfers()), writer: \(await cluster.remote("cat \(cluster.dir)/writer.pid; ps -o pid,pgid,sid,args -e | grep -v grep | grep writer; tail -5 \(cluster.dir)/writer.err; tail -5 \(cluster.dir)/writer.log; date +%s.%N").output)")
        }
        _ = await cluster.remote(stopWriter)
        await #expect(cluster.sql("SELECT sum(balance) FROM accounts", database: "bank") == "1000000")
        await #expect(cluster.sql("SELECT count(*) FROM ledger", database: "bank") == String(transfers()))
        print("postgres backup under writes: \(Format.bytes(taken?.bytes ?? 0)) in \(Format.seconds(taken?.seconds ?? 0)), "
              + "\(after - before) transfers committed meanwhile, snapshot at \(restoredTransfers - before) of them")
    }

    /// Every failure the issue names leaves no backup behind, or the database untouched, and says why.
    @Test(.timeLimit(.minutes(3)), .sandbox) func faultsAreRefusedCleanly() async throws {
        let cluster = try await PostgresCluster.start(hosts, index: 36, password: Self.password)
        defer { cluster.stopBlocking(); _ = cluster.remoteBlocking("umount /srv/backups-full-* 2>/dev/null") }
        await cluster.populate("shop")
        let backups = "/srv/backups-faults-\(UUID().uuidString.prefix(6))"
        var swiftfab = try CLI(hosts: hosts, cluster: cluster, database: "shop", backups: backups)
        func files(_ dir: String = backups) async -> String { await cluster.remote("ls -A \(dir) 2>/dev/null").output }

        // Wrong database.
        swiftfab.environment["PGT_DB"] = "nosuchdb"
        let wrong = await swiftfab("backup")
        #expect(wrong.status != 0 && wrong.output.contains("backup of nosuchdb failed") && wrong.output.contains("does not exist"), "\(wrong.output)")
        #expect(wrong.output.contains("no database named nosuchdb") && wrong.output.contains("no backup was written"))
        let left = await files()
        #expect(left.isEmpty, "\(left)")
        swiftfab.environment["PGT_DB"] = "shop"

        // Wrong password: pg_dump's message, the password nowhere.
        swiftfab.environment["PGT_PASSWORD"] = "not-the-password"
        let denied = await swiftfab("backup")
        #expect(denied.status != 0 && denied.output.contains("password authentication failed") && !denied.output.contains("not-the-password"), "\(denied.output)")
        swiftfab.environment["PGT_PASSWORD"] = Self.password

        // Server down.
        await cluster.stop()
        let down = await swiftfab("backup")
        #expect(down.status != 0 && down.output.contains("is PostgreSQL running"), "\(down.output)")
        await #expect(files().isEmpty)
        try await cluster.startServer()

        // Disk full: a 64 KiB tmpfs as the backups directory.
        let full = "/srv/backups-full-\(UUID().uuidString.prefix(6))"
        await #expect(cluster.remote("mkdir -p \(full) && mount -t tmpfs -o size=64k tmpfs \(full)").status == 0)
        swiftfab.environment["PGT_BACKUPS"] = full
        let noSpace = await swiftfab("backup")
        #expect(noSpace.status != 0 && noSpace.output.contains("No space left on device"), "\(noSpace.output)")
        #expect(noSpace.output.contains("is full: free space there"))
        let leftFull = await files(full)
        #expect(leftFull.isEmpty, "\(leftFull)")
        await #expect(swiftfab("backups").output.contains("no backups in \(full) yet"))
        swiftfab.environment["PGT_BACKUPS"] = backups

        // A good backup, then damaged copies of it.
        let good = await swiftfab("backup")
        let name = try #require(Self.backupName(in: good.output), "\(good.output)")
        let state = await cluster.checksums(Self.tables, database: "shop")
        let truncated = "shop-20250101T000000Z.dump", rehashed = "shop-20250102T000000Z.dump", garbage = "shop-20250103T000000Z.dump"
        _ = await cluster.remote("""
            cd \(backups) && head -c 20000 \(name) > \(truncated) && sed "s/\(name)/\(truncated)/" \(name).sha256 > \(truncated).sha256 && \
            head -c 200000 \(name) > \(rehashed) && sha256sum \(rehashed) > \(rehashed).sha256 && \
            echo 'not a dump' > \(garbage) && sha256sum \(garbage) > \(garbage).sha256
            """)
        let listing = await swiftfab("backups")
        #expect(listing.output.contains("MISMATCH (damaged)"), "\(listing.output)")
        let mismatch = await swiftfab("restore", truncated, "--yes")
        #expect(mismatch.status != 0 && mismatch.output.contains("does not match its sha256") && mismatch.output.contains("the database was not touched"), "\(mismatch.output)")
        for damaged in [rehashed, garbage] {
            let refused = await swiftfab("restore", damaged, "--yes")
            #expect(refused.status != 0 && refused.output.contains("pg_restore cannot read \(damaged)"), "\(refused.output)")
        }
        await #expect(!files().contains(".safety.dump"))
        await #expect(cluster.checksums(Self.tables, database: "shop") == state)

        // A name that does not exist: the near ones.
        let typo = await swiftfab("restore", String(name.dropLast(6)) + "X.dump", "--yes")
        #expect(typo.status != 0 && typo.output.contains("no backup named") && typo.output.contains("did you mean: \(name)"), "\(typo.output)")

        // A restore failing midway (a view elsewhere depends on a table it must drop): all rolled back.
        await cluster.sql("DELETE FROM orders WHERE id > 30000; CREATE SCHEMA reports; CREATE VIEW reports.big AS SELECT * FROM public.orders WHERE total > 100;", database: "shop")
        let changed = await cluster.checksums(Self.tables, database: "shop")
        let midway = await swiftfab("restore", name, "--yes")
        #expect(midway.status != 0 && midway.output.contains("restoring \(name) failed") && midway.output.contains("so shop is unchanged"), "\(midway.output)")
        #expect(midway.output.contains("put it back with: swiftfab restore shop-") && midway.output.contains(".safety.dump --yes"))
        await #expect(cluster.checksums(Self.tables, database: "shop") == changed)
        await #expect(cluster.sql("SELECT count(*) FROM reports.big", database: "shop") != "")
        #expect(!midway.output.contains(Self.password))
    }

    final class Notes: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [String] = []
        var lines: [String] { lock.withLock { stored } }
        func add(_ line: String) { lock.withLock { stored.append(line) } }
    }

    // MARK: - Without a server

    @Test func commandsQuoteAndRedact() {
        let config = PostgresConfig(database: "shop; rm -rf /", host: "db.internal", port: 6432, runsIn: .container("pg main"), backups: "/srv/b k")
        let commands = PostgresCommands(config: config, password: Secret("hunter2-pw"))
        let backup = commands.backup("x.dump")
        #expect(backup.script.redacted.contains("docker exec -i -e PGPASSWORD 'pg main' pg_dump -Fc --lock-wait-timeout=60s -U postgres -h db.internal -p 6432 -d 'shop; rm -rf /'"), "\(backup.display)")
        #expect(backup.display.contains("PGPASSWORD=[secret]") && !backup.display.contains("hunter2-pw"))
        #expect((try? backup.rendered())?.contains("hunter2-pw") == true)
        #expect(commands.restore("x.dump").display.contains("pg_restore --clean --if-exists --single-transaction --exit-on-error"))
        let compose = PostgresCommands(config: PostgresConfig(database: "app", runsIn: .compose(service: "postgres", file: "/code/dc.yml")))
        #expect(compose.backup("a.dump").script.redacted.contains("docker compose -f /code/dc.yml exec -T postgres pg_dump -Fc --lock-wait-timeout=60s -U postgres -d app"))
    }

    @Test func blueGreenWritePauseStopsAndStartsTheLiveSlot() {
        let pause = WritePause.blueGreen(BlueGreenConfig(app: "shop", root: "/srv/shop", command: "app", runtime: .process))
        let stop = pause.stop.display, resume = pause.resume.display
        #expect(stop.contains("readlink /srv/shop/run/live.sock") && stop.contains("echo blue > /srv/shop/run/paused-for-restore"), "\(stop)")
        #expect(stop.contains("supervisorctl -c /srv/shop/run/supervisord.conf stop shop-green"), "\(stop)")
        #expect(resume.contains("supervisorctl -c /srv/shop/run/supervisord.conf start shop-blue") && resume.hasSuffix("rm -f /srv/shop/run/paused-for-restore"), "\(resume)")
        let containers = WritePause.blueGreen(BlueGreenConfig(app: "shop", root: "/srv/shop", command: "app", runtime: .container(ContainerRuntime(engine: "podman"))))
        #expect(containers.stop.display.contains("podman stop -t 10 shop-blue") && containers.resume.display.contains("podman start shop-green"))
    }

    @Test func aWritePauseMustProveTheSlotStopped() async throws {
        let dir = try TempDir.make().path
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/run/live.sock", withDestinationPath: "blue.sock")
        // A supervisorctl whose stop does nothing: the slot keeps running.
        func fakeSupervisor(says state: String) throws {
            try "#!/bin/sh\ncase \"$*\" in *status*) echo \"shop-blue \(state)\";; esac\nexit 0\n".write(toFile: dir + "/bin/supervisorctl", atomically: true, encoding: .utf8)
            _ = chmod(dir + "/bin/supervisorctl", 0o755)
        }
        let pause = WritePause.blueGreen(BlueGreenConfig(app: "shop", root: dir, command: "app", runtime: .process))
        let path = ["PATH": dir + "/bin:/usr/bin:/bin"]
        try fakeSupervisor(says: "RUNNING")
        let failed = try await LocalBackend().run(pause.stop.with(environment: path))
        #expect(!failed.succeeded && failed.stderrText.contains("still running"), "\(failed.stderrText)")
        try fakeSupervisor(says: "STOPPED")
        let stopped = try await LocalBackend().run(pause.stop.with(environment: path))
        #expect(stopped.succeeded, "\(stopped.stderrText)")
        #expect(try String(contentsOfFile: dir + "/run/paused-for-restore", encoding: .utf8) == "blue\n")
    }

    @Test func restoreChecksBeforeItTouchesTheDatabase() async throws {
        let backend = RecordingBackend(host: "db1")
        backend.respond(to: "date +%s", with: CommandResult(exitStatus: 0, stdout: Data("1790000000\nshop-20260101T000000Z.dump\t10\t1790000000\tok\n".utf8)))
        // The host's clock names the safety backup, however far off this machine's clock is.
        backend.respond(to: "date -u +%s", with: CommandResult(exitStatus: 0, stdout: Data("1790000000\n".utf8)))
        backend.respond(to: "pg_dump", with: CommandResult(exitStatus: 0, stdout: Data("shop-x.safety.dump\t10\t\(String(repeating: "a", count: 64))\n".utf8)))
        backend.respond(to: "--list", with: CommandResult(exitStatus: 0, stdout: Data("1; 2 3 TABLE DATA public t postgres\n".utf8)))
        let worker = PostgresOperator(config: PostgresConfig(database: "shop", backups: "/b"))
        let restored = try await worker.restore(on: backend, name: "shop-20260101T000000Z.dump", confirm: { _ in })
        #expect(restored.tables == 1)
        let order = ["sha256sum -c", "pg_restore -f /dev/null", "pg_dump -Fc", "pg_restore --clean"].map { fragment in
            backend.commands.firstIndex { $0.contains(fragment) } ?? -1
        }
        #expect(order == order.sorted() && !order.contains(-1), "\(backend.commands)")
        #expect(restored.safety.name == "shop-20260921T141320Z.safety.dump")

        // A checksum mismatch stops it before pg_restore or pg_dump run.
        let damaged = RecordingBackend(host: "db1")
        damaged.respond(to: "date +%s", with: CommandResult(exitStatus: 0, stdout: Data("1790000000\nshop-20260101T000000Z.dump\t10\t1790000000\tmismatch\n".utf8)))
        damaged.respond(to: "sha256sum -c", with: CommandResult(exitStatus: 5))
        await #expect(throws: SwiftFabError.self) { _ = try await worker.restore(on: damaged, name: "shop-20260101T000000Z.dump", confirm: { _ in }) }
        #expect(!damaged.commands.contains { $0.contains("pg_restore") || $0.contains("pg_dump") })
    }

    @Test func aRestoreThatStopsWritesHoldsTheDeployLockThroughout() async throws {
        var config = PostgresConfig(database: "shop", backups: "/b")
        config.pauseWrites = WritePause.blueGreen(BlueGreenConfig(app: "shop", root: "/srv/shop", command: "app", runtime: .process))
        let backend = RecordingBackend(host: "db1")
        backend.respond(to: "date +%s", with: CommandResult(exitStatus: 0, stdout: Data("1790000000\nshop-20260101T000000Z.dump\t10\t1790000000\tok\n".utf8)))
        backend.respond(to: "date -u +%s", with: CommandResult(exitStatus: 0, stdout: Data("1790000000\n".utf8)))
        backend.respond(to: "pg_dump", with: CommandResult(exitStatus: 0, stdout: Data("x.safety.dump\t10\t\(String(repeating: "a", count: 64))\n".utf8)))
        let worker = PostgresOperator(config: config)
        _ = try await worker.restore(on: backend, name: "shop-20260101T000000Z.dump", confirm: { _ in }, pauseWrites: { true })
        let order = [".deploy.lock.guard", "paused-for-restore; live=", "pg_restore --clean", "s=$(cat /srv/shop/run/paused-for-restore", "sed -n 6p /srv/shop/deploy.lock/holder"]
            .map { fragment in backend.commands.firstIndex { $0.contains(fragment) } ?? -1 }
        #expect(order == order.sorted() && !order.contains(-1), "\(backend.commands)")

        // While a deploy holds the lock, nothing is stopped and nothing restored.
        let busy = RecordingBackend(host: "db1")
        busy.respond(to: "date +%s", with: CommandResult(exitStatus: 0, stdout: Data("1790000000\nshop-20260101T000000Z.dump\t10\t1790000000\tok\n".utf8)))
        busy.respond(to: ".deploy.lock.guard", with: CommandResult(exitStatus: 75, stdout: Data("ann@laptop\nabc1234\nnow\n".utf8)))
        await #expect(throws: SwiftFabError.self) {
            _ = try await worker.restore(on: busy, name: "shop-20260101T000000Z.dump", confirm: { _ in }, pauseWrites: { true })
        }
        #expect(!busy.commands.contains { $0.contains("paused-for-restore") || $0.contains("pg_restore --clean") || $0.contains("pg_dump") })
    }

    @Test func retentionKeepsTheNewestValidAndYoungSafetyBackups() {
        let now = UTCStamp.date(from: "20260110T120000Z")!
        func entry(_ stamp: String, safety: Bool = false, _ checksum: BackupEntry.Checksum = .ok) -> BackupEntry {
            let name = "shop-\(stamp)" + (safety ? ".safety.dump" : ".dump")
            return BackupEntry(name: name, bytes: 1, taken: BackupCatalog.stamp(of: name)!, checksum: checksum)
        }
        let entries = [entry("20260110T100000Z"), entry("20260109T100000Z"), entry("20260101T100000Z"),
                       entry("20260110T110000Z", safety: true), entry("20260105T110000Z", safety: true),
                       entry("20260108T100000Z", .mismatch)]
        #expect(BackupCatalog.toDelete(entries, keep: 1, maxAgeDays: nil, now: now)
                == ["shop-20260109T100000Z.dump", "shop-20260105T110000Z.safety.dump", "shop-20260101T100000Z.dump"])
        #expect(BackupCatalog.toDelete(entries, keep: nil, maxAgeDays: 3, now: now) == ["shop-20260105T110000Z.safety.dump", "shop-20260101T100000Z.dump"])
        #expect(BackupCatalog.toDelete(entries, keep: nil, maxAgeDays: nil, now: now).isEmpty)
        // Everything old: the newest valid one still stays; a damaged one is never removed by retention.
        let old = [entry("20250101T000000Z"), entry("20250102T000000Z", .mismatch), entry("20241231T000000Z")]
        #expect(BackupCatalog.toDelete(old, keep: 1, maxAgeDays: 1, now: now) == ["shop-20241231T000000Z.dump"])
    }

    @Test func namesParseAndNearNames() {
        let date = UTCStamp.date(from: "20261122T031500Z")!
        #expect(BackupCatalog.name(database: "shop", at: date) == "shop-20261122T031500Z.dump")
        #expect(BackupCatalog.stamp(of: "my-db-20261122T031500Z.safety.dump") == date)
        #expect(BackupCatalog.name(database: "../x y", at: date, safety: true) == ".._x_y-20261122T031500Z.safety.dump")
        let listed = BackupCatalog.parse("1790000000\nb-20260101T000000Z.dump\t5\t1\tok\nb-20260102T000000Z.dump\t7\t2\tmissing\njunk\n")
        #expect(listed.entries.map(\.name) == ["b-20260102T000000Z.dump", "b-20260101T000000Z.dump"])
        #expect(listed.entries.first?.checksum == .missing)
        let names = ["shop-20261122T031500Z.dump", "shop-20261121T031500Z.dump", "other-20200101T000000Z.dump"]
        #expect(BackupCatalog.nearNames("shop-20261122T031501Z.dump", in: names).first == "shop-20261122T031500Z.dump")
        #expect(BackupCatalog.nearNames("shop-2026112", in: names).count == 2)
        #expect(BackupCatalog.nearNames("shop-2026.dump", in: names) == ["shop-20261122T031500Z.dump", "shop-20261121T031500Z.dump"])
        #expect(BackupCatalog.nearNames("zzz", in: names).isEmpty)
    }
}
