import SwiftFab

extension PostgresProbe {
    /// Where the database a `Postgres(...)` recipe backs up answers; with no
    /// host configured, Debian's local socket directory.
    public init(_ database: PostgresConfig) {
        self.init(host: database.host ?? "/var/run/postgresql", port: database.port ?? 5432, user: database.user)
    }
}

extension ServerConfig {
    /// The same server config, with doctor also watching `database`: that it
    /// answers (`pg_isready`) and how old its newest backup is.
    public func watching(_ database: PostgresConfig) -> ServerConfig {
        var config = self
        config.postgres = PostgresProbe(database)
        config.backups = database.backups
        return config
    }
}
