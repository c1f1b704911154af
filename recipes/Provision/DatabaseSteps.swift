import SwiftFab

/// The app's PostgreSQL database where it runs on the server itself (or in
/// a compose service there): the server installed and running (the service
/// up), the app's role (LOGIN, with the password of `passwordSetting`) and
/// its database, owned by that role.
///
/// The password never travels in a command line: the check gets it as a
/// secret environment value (on the command's stdin) for a real login over
/// TCP, and the role is given a SCRAM-SHA-256 verifier computed here, fed to
/// the superuser's psql on its stdin; the server never sees the password.
extension ProvisionPlan {
    public func databaseSteps() -> [ProvisionStep] {
        guard let database = config.database, let server = database.setUp(as: owner) else { return [] }
        return [databaseServer(database, server), databaseRole(database, server), databaseItself(database, server)]
    }

    /// Installed (apt), and accepting connections (started when it does not).
    func databaseServer(_ database: ServerDatabase, _ server: PostgresServerCommands) -> ProvisionStep {
        let ready: ShellString = "{ \(raw: server.readyCommand); } >/dev/null 2>&1"
        let name = server.about + (server.packages.isEmpty ? "" : " (\(server.packages.joined(separator: " ")))")
            + " for the database \(database.config.database)"
        return aptStep(name, server.packages, andThen: "\(ready) || { echo 'PostgreSQL does not accept connections'; exit 1; }", """
            \(ready) || { { \(raw: server.startCommand); } >&2 || exit 1; i=0; until \(ready); do i=$((i + 1)); \
            [ $i -lt 120 ] || { echo 'PostgreSQL was started but accepts no connections after 60 s' >&2; exit 1; }; sleep 0.5; done; }
            """)
    }

    /// The role: LOGIN, and when there is a password, one stored as SCRAM-SHA-256
    /// that a real login over TCP accepts (a changed password is a difference).
    func databaseRole(_ database: ServerDatabase, _ server: PostgresServerCommands) -> ProvisionStep {
        let db = database.config, role = db.user, address = database.passwordAddress
        let state = """
            SELECT coalesce((SELECT rolcanlogin::text || ' ' || CASE WHEN rolpassword IS NULL THEN 'none' \
            WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram' ELSE 'other' END FROM pg_authid WHERE rolname = :'role'), 'missing -') \
            || ' ' || (SELECT count(*) FROM pg_database WHERE datname = :'db');
            """
        var check: ShellString = """
            \(superuser(server, ["role=" + role, "db=" + db.database], sql: state, into: "state")); set -- $state; \
            [ "$1" != missing ] || { printf 'no role %s\\n' \(role); exit 1; }; \
            [ "$1" = true ] || { printf 'role %s cannot log in (NOLOGIN)\\n' \(role); exit 1; }
            """
        var apply: [String] = Self.quietSession + ["SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec"]
        var checkCommand: Command, applyCommand: Command
        if let password = database.password {
            let setting = db.passwordSetting ?? ""
            check = check + """
                ; [ "$2" != none ] || { printf 'role %s has no password\\n' \(role); exit 1; }; \
                [ "$2" = scram ] || { printf 'the password of role %s is not stored as SCRAM-SHA-256\\n' \(role); exit 1; }; \
                d=postgres; [ "$3" = 1 ] && d=\(db.database); \
                out=$(PGPASSWORD="$SWIFTFAB_DB_PASSWORD" PGCONNECT_TIMEOUT=10 \(raw: server.client) -X -q -A -t \
                \(["-h", address.host, "-p", String(address.port), "-U", role]) -d "$d" -c 'SELECT 1' 2>&1 </dev/null) || \
                { printf 'role %s does not log in at %s:%s with the password of setting %s (%s)\\n' \(role) \(address.host) \(address.port) \(setting) \
                "$(printf '%s\\n' "$out" | tail -n 1)"; exit 1; }
                """
            apply += ["ALTER ROLE :\"role\" WITH LOGIN PASSWORD :'password';"]
            checkCommand = Command(shell: check).with(secretEnvironment: ["SWIFTFAB_DB_PASSWORD": password])
            // psql's `\set NAME 'VALUE'` reads the verifier (or, beyond ASCII, the password) from stdin, never from a command line.
            let stored = SCRAMVerifier.make(password) ?? password
            applyCommand = Command(shell: """
                cd / && { printf '%s %s\\n' '\\set password' "$SWIFTFAB_DB_STORED"; printf '%s\\n' \(apply); } | \(psqlAsSuperuser(server, ["role=" + role]))
                """).with(secretEnvironment: ["SWIFTFAB_DB_STORED": Secret(Self.psqlQuoted(stored.reveal()))])
        } else {
            apply += ["ALTER ROLE :\"role\" WITH LOGIN;"]
            checkCommand = Command(shell: check)
            applyCommand = Command(shell: "cd / && printf '%s\\n' \(apply) | \(psqlAsSuperuser(server, ["role=" + role]))")
        }
        let about = database.password == nil ? "LOGIN" : "LOGIN, the password of setting \(db.passwordSetting ?? "")"
        return ProvisionStep("database role \(role) (\(about))", check: checkCommand.described("check: database role \(role)")
                                .assuming(exitStatus: 1, because: "it is not set up yet, as on a fresh server"),
                             apply: applyCommand.described("set up: database role \(role) (the password as a SCRAM-SHA-256 verifier, on psql's stdin)"))
    }

    /// The database, owned by the role; one that belongs to another role is
    /// reported, never taken from it. A cluster made without a UTF-8 locale
    /// (a server with no LANG) would give SQL_ASCII: the database is UTF-8 then.
    func databaseItself(_ database: ServerDatabase, _ server: PostgresServerCommands) -> ProvisionStep {
        let db = database.config, variables = ["role=" + db.user, "db=" + db.database]
        let create = """
            SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') || CASE WHEN pg_encoding_to_char(encoding) = 'UTF8' THEN '' \
            ELSE ' ENCODING ''UTF8'' LOCALE ''C.UTF-8'' TEMPLATE template0' END \
            FROM pg_database WHERE datname = 'template1' AND NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \\gexec
            """
        return ProvisionStep("database \(db.database) (owned by \(db.user))", check: Command(shell: """
            \(superuser(server, variables, sql: "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'db';", into: "owner")); \
            [ -n "$owner" ] || { printf 'no database %s\\n' \(db.database); exit 1; }; \
            [ "$owner" = \(db.user) ] || { printf 'database %s belongs to %s, not %s: provision takes no database from its owner (to give it: ALTER DATABASE %s OWNER TO %s)\\n' \
            \(db.database) "$owner" \(db.user) \(db.database) \(db.user); exit 1; }
            """), apply: Command(shell: "cd / && printf '%s\\n' \(Self.quietSession + [create]) | \(psqlAsSuperuser(server, variables))"))
    }

    /// psql as the server's superuser, stopping at the first error.
    func psqlAsSuperuser(_ server: PostgresServerCommands, _ variables: [String]) -> ShellString {
        "\(raw: server.psql) -X -q -A -t -v ON_ERROR_STOP=1 -d postgres \(variables.flatMap { ["-v", $0] })"
    }

    /// Runs `sql` as the superuser into the shell variable `name`; when psql
    /// fails, its last line is the check's answer.
    func superuser(_ server: PostgresServerCommands, _ variables: [String], sql: String, into name: String) -> ShellString {
        """
        cd / || exit 1; \(raw: name)=$(printf '%s\\n' \(sql) | \(psqlAsSuperuser(server, variables)) 2>&1) || \
        { printf 'psql as the database superuser failed: %s\\n' "$(printf '%s\\n' "$\(raw: name)" | tail -n 1)"; exit 1; }
        """
    }

    /// Nothing of what follows is logged by the server or shown in its activity
    /// view, and errors name no statement.
    static let quietSession = ["\\set VERBOSITY terse", "\\set SHOW_CONTEXT never", "SET log_statement = 'none';",
                               "SET log_min_error_statement = 'panic';", "SET track_activities = off;",
                               "SET password_encryption = 'scram-sha-256';"]

    /// A value as psql's `\set` reads it between single quotes.
    static func psqlQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }
}
