import SwiftFab

/// The server-side commands of the PostgreSQL recipe, as values: what
/// `--dry-run` shows is exactly what runs. Dumps always travel through the
/// client tools' stdin/stdout, so the same commands work natively and in a
/// container; the backup files themselves always live on the host.
public struct PostgresCommands: Sendable {
    public var config: PostgresConfig
    /// The password, if any: given to the client tools as PGPASSWORD.
    public var password: Secret?

    public init(config: PostgresConfig, password: Secret? = nil) {
        self.config = config
        self.password = password
    }

    var dir: String { config.backups }
    public func path(_ name: String) -> String { dir + "/" + name }

    /// `pg_dump`/`pg_restore`, run where the database runs.
    /// `settings` are plain environment values for the tool (PGOPTIONS).
    func tool(_ name: String, settings: [String: String] = [:]) -> ShellString {
        var passEnv: ShellString = password == nil ? "" : "-e PGPASSWORD "
        var prefix: ShellString = ""
        for key in settings.keys.sorted() {
            passEnv = passEnv + "-e \(key + "=" + settings[key]!) "
            prefix = prefix + "\(raw: key)=\(settings[key]!) "
        }
        switch config.runsIn {
        case .host:
            return prefix + "\(name)"
        case .container(let container, let engine):
            return "\(raw: engine) exec -i \(passEnv)\(container) \(name)"
        case .compose(let service, let file, let engine):
            let fileOption: ShellString = file.map { "-f \($0) " } ?? ""
            return "\(raw: engine) \(fileOption)exec -T \(passEnv)\(service) \(name)"
        }
    }

    /// A restore waits at most this long for a table lock (the app's open
    /// transactions), then fails, unchanged, instead of freezing the app behind it.
    static let lockTimeout = "30s"

    /// `-U user [-h host] [-p port] -d database`
    var connection: ShellString {
        var words = ["-U", config.user]
        if let host = config.host { words += ["-h", host] }
        if let port = config.port { words += ["-p", String(port)] }
        words += ["-d", config.database]
        return .words(words)
    }

    func withPassword(_ command: Command) -> Command {
        guard let password else { return command }
        // PGPASSWORD keeps the password off the tools' command lines; it is redacted in what is shown.
        return command.with(secretEnvironment: ["PGPASSWORD": password])
    }

    /// A custom-format dump into `<name>.partial`, hashed as it streams (one
    /// read of the data, not two), fsynced, its sha256 beside it (written
    /// aside and renamed too), then renamed into place: a listed backup is
    /// always complete. pg_dump's and the write's exit statuses are both
    /// checked (a full disk fails the write, not pg_dump). On any failure the
    /// partial files go.
    /// Prints `name<TAB>bytes<TAB>sha256` when done.
    public func backup(_ name: String) -> Command {
        withPassword(Command(shell: """
            umask 077 && mkdir -p \(dir) && cd \(dir) || exit 1; f=\(name); \
            if ! mkdir "$f.claim" 2>/dev/null; then echo "another backup named $f is being written right now" >&2; exit 1; fi; \
            trap 'rm -f "$f.partial" "$f.sha256.partial" "$f.dumped" "$f.written"; rmdir "$f.claim" 2>/dev/null' EXIT; trap 'exit 143' HUP INT TERM; \
            if [ -e "$f" ]; then echo "a backup named $f already exists" >&2; exit 1; fi; \
            rm -f "$f.partial" "$f.sha256.partial"; \
            sum=$( { { \(tool("pg_dump")) -Fc --lock-wait-timeout=60s \(connection); echo $? > "$f.dumped"; } | tee "$f.partial"; echo $? > "$f.written"; } \
            | sha256sum | cut -c1-64 ); ok=$(cat "$f.dumped" "$f.written" 2>/dev/null | tr -d '\\n'); rm -f "$f.dumped" "$f.written"; \
            if [ "$ok" = 00 ] && [ ${#sum} -eq 64 ] && sync "$f.partial"; then \
            printf '%s  %s\\n' "$sum" "$f" > "$f.sha256.partial" && sync "$f.sha256.partial" && \
            mv "$f.sha256.partial" "$f.sha256" && mv "$f.partial" "$f" && sync . && \
            { printf '%s\\t%s\\t%s\\n' "$f" "$(stat -c %s "$f")" "$sum"; exit 0; }; fi; \
            rm -f "$f.partial" "$f.sha256.partial"; [ -e "$f" ] || rm -f "$f.sha256"; exit 1
            """)).described("dump \(config.database) to \(path(name)) (written aside, hashed, fsynced, then renamed)")
            .assuming("\(name)\t1048576\t\(String(repeating: "0", count: 64))\n", because: "the dump succeeds (its size and sha256 are examples)")
    }

    /// Exit 0 when the dump matches its recorded sha256; 3: no such file,
    /// 4: no checksum file, 5: mismatch.
    public func verify(_ name: String) -> Command {
        Command(shell: """
            cd \(dir) 2>/dev/null || exit 3; [ -f \(name) ] || exit 3; [ -f \(name + ".sha256") ] || exit 4; \
            sha256sum -c --status \(name + ".sha256") 2>/dev/null || exit 5
            """).described("check \(name) against its sha256")
    }

    /// Reads the whole dump (every data block, decompressed) and prints its
    /// table of contents: fails when pg_restore cannot read all of it
    /// (truncated, not a dump), without touching any database.
    public func contents(_ name: String) -> Command {
        withPassword(Command(shell: """
            \(tool("pg_restore")) -f /dev/null < \(path(name)) && \(tool("pg_restore")) --list < \(path(name))
            """)).described("read all of \(name) and list what it holds, touching no database")
            .assuming("1; 2 3 TABLE DATA public example postgres\n", because: "the dump reads whole and holds one table")
    }

    /// Replaces the database's objects with the dump's, in one transaction:
    /// it either all happens or none of it does.
    ///
    /// pg_restore writes the dump as SQL between `BEGIN` and `COMMIT`, and
    /// psql runs it, after printing the transaction's id and server process
    /// (`RestoreTransaction`): a run stopped while it runs can then ask the
    /// server whether it committed (`restoreOutcome`) instead of guessing.
    /// A pg_restore that fails before the end writes no `COMMIT`, and an
    /// error is raised in its place, so nothing is committed.
    ///
    /// Only a pg_restore that fences its script (`\restrict`, see
    /// `fencesItsScript`) is piped into psql: an older one would let a dump
    /// whose names hold psql's backslash commands run them (`\!` is a shell
    /// on the host). Without the fence pg_restore restores by itself, still
    /// in one transaction, and prints `RestoreTransaction.unknownLine`: a stop
    /// then cannot ask the server how it ended.
    public func restore(_ name: String) -> Command {
        let opening = ["BEGIN;", "SELECT '\(RestoreTransaction.marker)' || txid_current() || ':' || pg_backend_pid();",
                       "\\o /dev/null", "SET client_min_messages = error;"]
        let failed = "DO $$BEGIN RAISE EXCEPTION 'pg_restore could not read all of the dump: nothing was restored'; END$$;"
        let lockTimeout = ["PGOPTIONS": "-c lock_timeout=" + Self.lockTimeout]
        let restoreOptions: ShellString = "--clean --if-exists --single-transaction --exit-on-error"
        return withPassword(Command(shell: """
            if \(fencesItsScript); then \
            { printf '%s\\n' \(opening); \(tool("pg_restore")) \(restoreOptions) -f - < \(path(name)) \
            || printf '\\n%s\\n' \(failed); } | \(tool("psql", settings: lockTimeout)) -X -q -A -t -v ON_ERROR_STOP=1 \(connection); \
            else echo \(RestoreTransaction.unknownLine); \(tool("pg_restore", settings: lockTimeout)) \(restoreOptions) \(connection) < \(path(name)); fi
            """)).described("restore \(name) into \(config.database), in one transaction")
            .assuming(RestoreTransaction.marker + "1000:4242\n", because: "the restore runs (its transaction's id and server process are examples)")
    }

    /// Exits 0 when the host's pg_restore fences the SQL it writes with
    /// `\restrict` (psql then refuses backslash commands from the dump): the
    /// releases of August 2025 on (13.22, 14.19, 15.14, 16.10, 17.6) and 18.
    var fencesItsScript: ShellString {
        let fenced = "m >= 18 || (m == 17 && n >= 6) || (m == 16 && n >= 10) || (m == 15 && n >= 14) || (m == 14 && n >= 19) || (m == 13 && n >= 22)"
        return "\(tool("pg_restore")) --version < /dev/null | awk \("{ split($3, v, \".\"); m = v[1] + 0; n = v[2] + 0; ok = (\(fenced)) } END { exit !ok }")"
    }

    /// After a restore that was stopped: ends its server session if it is
    /// still there (only that session: its process must still be in that
    /// transaction), then says whether the transaction committed: prints
    /// `committed`, `aborted`, or `in progress` when the server could not tell within 10 s.
    public func restoreOutcome(_ transaction: RestoreTransaction) -> Command {
        let end = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = \(transaction.serverProcess) AND backend_xid::text = '\(transaction.id % (1 << 32))';"
        let status = "SELECT txid_status(\(transaction.id));"
        return withPassword(Command(shell: """
            q() { \(tool("psql")) -X -q -A -t -v ON_ERROR_STOP=1 \(connection) -c "$1" < /dev/null; }; q \(end) >/dev/null || exit 1; \
            i=0; while s=$(q \(status)) && [ "$s" = 'in progress' ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done; [ -n "$s" ] && echo "$s"
            """)).described("ask the database whether the stopped restore's transaction committed (ending its session first)")
            .assuming("aborted\n", because: "the transaction was rolled back").asCleanup()
    }

    /// The server's clock, then one line per backup: name, bytes, mtime, checksum (ok|missing|mismatch).
    public func list() -> Command {
        Command(shell: """
            date +%s; cd \(dir) 2>/dev/null || exit 0; for f in *.dump; do [ -f "$f" ] || continue; \
            if [ ! -f "$f.sha256" ]; then c=missing; elif sha256sum -c --status "$f.sha256" 2>/dev/null; then c=ok; else c=mismatch; fi; \
            printf '%s\\t%s\\t%s\\n' "$f" "$(stat --printf '%s\\t%Y' "$f")" "$c"; done
            """).described("list the backups in \(dir) with their checksums")
            .assuming(BackupCatalog.exampleListing(database: config.database), because: "the host keeps backups of today, 10 days and 40 days ago")
    }

    public func checksum(_ name: String) -> Command {
        Command(shell: "cut -c1-64 \(path(name + ".sha256"))").described("read \(name)'s recorded sha256")
    }

    /// Removes backups with their checksums.
    public func remove(_ names: [String]) -> Command {
        Command(words: ["rm", "-f", "--"] + names.flatMap { [path($0), path($0 + ".sha256")] })
            .described("delete \(names.count) backup\(names.count == 1 ? "" : "s") with their checksums: \(names.joined(separator: ", "))")
    }

    /// Partial files a backup or upload that died (connection lost, host
    /// rebooted) left behind, once they are a day old.
    public func removeStalePartials() -> Command {
        Command(shell: "find \(dir) -maxdepth 1 -type f -name '*.partial' -mmin +1440 -print -delete 2>/dev/null || true")
            .described("delete partial files older than a day (left by backups or uploads that died)")
    }

    /// Moves an uploaded file into place under `name`, with its sha256.
    public func adopt(_ uploaded: String, as name: String) -> Command {
        Command(shell: """
            cd \(dir) && f=\(name) && if [ -e "$f" ]; then echo "a backup named $f already exists" >&2; rm -f \(uploaded); exit 1; fi && \
            sum=$(sha256sum < \(uploaded) | cut -c1-64) && printf '%s  %s\\n' "$sum" "$f" > "$f.sha256.partial" && \
            sync \(uploaded) "$f.sha256.partial" && mv "$f.sha256.partial" "$f.sha256" && mv \(uploaded) "$f" && echo "$sum"
            """).described("move the upload into place as \(name), with its sha256")
    }
}

/// A restore's transaction as psql reports it when it begins: its id
/// (`txid_current()`) and the server process that runs it.
public struct RestoreTransaction: Sendable, Equatable {
    public static let marker = "swiftfab-restore-transaction:"
    /// Printed instead when the restore runs without a transaction id to ask about later.
    public static let unknownLine = marker + "unknown"
    public var id: UInt64
    public var serverProcess: Int

    public init(id: UInt64, serverProcess: Int) {
        self.id = id
        self.serverProcess = serverProcess
    }

    /// From the restore's output: its first line `marker<id>:<pid>`.
    public init?(output: String) {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(Self.marker) }) else { return nil }
        let fields = line.dropFirst(Self.marker.count).split(separator: ":")
        guard fields.count == 2, let id = UInt64(fields[0]), let pid = Int(fields[1]) else { return nil }
        self.init(id: id, serverProcess: pid)
    }
}
