import SwiftFab

/// How a PostgreSQL database is backed up and restored: where its server
/// runs, how to reach it, where the backups live and how long they stay.
public struct PostgresConfig: Sendable {
    public var database: String
    public var user: String
    /// The server's address as the database host sees it (nil: the local socket).
    public var host: String?
    public var port: Int?
    /// The name of a `Setting` holding the password, e.g.
    /// `Setting("db_password", .secret(env: "DB_PASSWORD"))`. It reaches
    /// pg_dump/pg_restore as PGPASSWORD and is redacted everywhere.
    public var passwordSetting: String?
    public var runsIn: Location
    /// The directory on the database host where backups are written.
    public var backups: String
    /// Retention: the newest `keep` backups stay (safety backups are counted on their own).
    public var keep: Int?
    /// Retention: backups older than this many days go.
    public var maxAgeDays: Int?
    public var roles: [Role]
    /// Offered by `restore`: stop the app's writes meanwhile (`WritePause.blueGreen(...)` for a blue/green app).
    public var pauseWrites: WritePause?

    /// Where pg_dump and pg_restore run.
    public enum Location: Sendable, Equatable {
        /// On the database host itself (the client tools must be installed there).
        case host
        /// Inside a running container, through `<engine> exec -i NAME`.
        case container(String, engine: String = "docker")
        /// Inside a compose service, through `<engine> -f FILE exec -T SERVICE`.
        case compose(service: String, file: String? = nil, engine: String = "docker compose")
    }

    public init(database: String, user: String = "postgres", host: String? = nil, port: Int? = nil,
                passwordSetting: String? = nil, runsIn: Location = .host, backups: String? = nil,
                keep: Int? = nil, maxAgeDays: Int? = nil, roles: [Role] = [.db], pauseWrites: WritePause? = nil) {
        self.database = database
        self.user = user
        self.host = host
        self.port = port
        self.passwordSetting = passwordSetting
        self.runsIn = runsIn
        self.backups = backups ?? "/srv/postgres-backups/\(database)"
        self.keep = keep
        self.maxAgeDays = maxAgeDays
        self.roles = roles
        self.pauseWrites = pauseWrites
    }
}
