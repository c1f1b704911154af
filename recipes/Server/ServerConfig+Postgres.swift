import SwiftFab

extension PostgresProbe {
    /// Where the database a `Postgres(...)` recipe backs up answers; with no
    /// host configured, Debian's local socket directory.
    public init(_ database: PostgresConfig) {
        self.init(host: database.host ?? "/var/run/postgresql", port: database.port ?? 5432, user: database.user)
    }
}

extension ServerConfig {
    /// The same server config, with `database` as the app's: doctor checks
    /// that it answers (`pg_isready`), that its role logs in with the password,
    /// and how old its newest backup is; provision sets it up when it runs on
    /// the server itself (`server`: how; nil leaves it alone).
    public func watching(_ database: PostgresConfig, server: PostgresServer? = PostgresServer()) -> ServerConfig {
        var config = self
        config.postgres = PostgresProbe(database)
        config.backups = database.backups
        config.database = ServerDatabase(database, server: server)
        return config
    }
}
