import SwiftFab

extension PostgresCommands {
    /// The app's role logs in to its database as the app does (the configured
    /// address, where the database runs), the password as PGPASSWORD; prints the role.
    public func login() -> Command {
        withPassword(Command(shell: """
            \(tool("psql", settings: ["PGCONNECT_TIMEOUT": "10"])) -X -q -A -t \(connection) -c 'SELECT current_user'
            """)).described("log in to \(config.database) as \(config.user), as the app does")
    }
}

extension DoctorChecks {
    /// `database login`: the role logs in to the database with the password
    /// of its setting, over the path the app uses. Fails with the server's
    /// own message and what to do about it.
    public func databaseLogin(_ database: ServerDatabase) -> DoctorCheck {
        let db = database.config, name = "database login"
        if let problem = database.passwordProblem {
            return DoctorCheck(name, .raw("true")) { _ in
                Finding(.fail, problem.message, hint: problem.hint ?? "export it (or put it in the env file the Deployfile's EnvFile names), then: swiftfab doctor")
            }
        }
        let address = db.host.map { $0.hasPrefix("/") ? "the socket in \($0)" : "\($0):\(db.port ?? 5432)" } ?? "the local socket"
        let setting = db.passwordSetting.map { "the password of setting \($0)" } ?? "no password"
        let provision = database.setUp(as: config.deployUser) != nil
            ? "swiftfab provision creates the role and the database with \(setting)"
            : "create them where the database runs"
        return DoctorCheck(name, PostgresCommands(config: db, password: database.password).login()) { out in
            if out.succeeded { return Finding(.ok, "\(db.user) logs in to \(db.database) at \(address) with \(setting)") }
            let said = out.lastErrorLine.replacingOccurrences(of: "psql: error: ", with: "")
            let hint: String
            if out.status == 127 || said.contains("not found") {
                hint = "install the client: sudo apt-get install postgresql-client"
            } else if said.contains("password authentication failed") {
                hint = "\(setting) is not the role's: export the app's password and run swiftfab provision, which sets it"
            } else if said.contains("does not exist") {
                hint = provision
            } else if said.contains("Peer authentication failed") {
                hint = "a socket login is checked against the OS user, not the password: set host: \"127.0.0.1\" in PostgresConfig"
            } else if said.contains("no pg_hba.conf entry") {
                hint = "allow it in pg_hba.conf (host \(db.database) \(db.user) 127.0.0.1/32 scram-sha-256), then reload PostgreSQL"
            } else if said.contains("refused") || said.contains("No such file") || said.contains("timeout") {
                hint = "PostgreSQL does not answer there (see the postgres row): sudo service postgresql start"
            } else {
                hint = provision
            }
            return Finding(.fail, "\(db.user) cannot log in to \(db.database) at \(address): \(said)", hint: hint)
        }
    }
}
