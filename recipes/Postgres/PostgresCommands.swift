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

    private func withPassword(_ command: Command) -> Command {
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
    public func restore(_ name: String) -> Command {
        withPassword(Command(shell: """
            \(tool("pg_restore", settings: ["PGOPTIONS": "-c lock_timeout=" + Self.lockTimeout])) --clean --if-exists --single-transaction --exit-on-error \(connection) < \(path(name))
            """)).described("restore \(name) into \(config.database), in one transaction")
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
