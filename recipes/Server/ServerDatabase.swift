import SwiftFab

/// The app's PostgreSQL database, as the servers see it: doctor checks that
/// its role logs in to it; provision sets it up where it runs on the server
/// itself or in a compose service there (the server installed or the service
/// up, the role, the database).
public struct ServerDatabase: Sendable {
    public var config: PostgresConfig
    /// How provision installs, starts and reaches the server; nil: provision leaves the database alone.
    public var server: PostgresServer?
    /// The password, read from `config.passwordSetting` when a task runs,
    /// or why it could not be (doctor reports it rather than stopping).
    var password: Secret?
    var passwordProblem: SwiftFabError?

    public init(_ config: PostgresConfig, server: PostgresServer? = PostgresServer()) {
        self.config = config
        self.server = server
    }

    /// The server runs on the database host itself: client tools there, and
    /// no address, a socket folder or a loopback address.
    public var runsOnTheHost: Bool {
        guard config.runsIn == .host else { return false }
        guard let host = config.host else { return true }
        return host.hasPrefix("/") || host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// What provision runs to set the database up, when it can: on the host,
    /// or in its compose service. Elsewhere (another machine, a container
    /// started by something else) it has nothing to set up.
    /// `user`: who runs the compose commands (the deploy user, as the boot
    /// script does: root would read a compose file that user can change).
    func setUp(as user: String) -> PostgresServerCommands? {
        guard let server else { return nil }
        if runsOnTheHost { return server.commands(PostgresServerCommands.debian) }
        guard case .compose(let service, let file, let engine) = config.runsIn else { return nil }
        return server.commands(PostgresServerCommands.compose(service: service, file: file, engine: engine, as: user))
    }

    /// Where the role logs in with its password: the configured address, or
    /// 127.0.0.1 for a socket (a socket login is checked by the OS user, not the password).
    var passwordAddress: (host: String, port: Int) {
        let host = config.host.flatMap { $0.hasPrefix("/") ? nil : $0 } ?? "127.0.0.1"
        return (host, config.port ?? 5432)
    }

    /// Whether this database is a concern of a host with these roles (a host
    /// named without roles, with `-H`, counts).
    func concerns(_ roles: Set<Role>) -> Bool {
        roles.isEmpty || !roles.isDisjoint(with: config.roles)
    }
}

/// How provision reaches PostgreSQL on a server. Each setting left nil is
/// the default for where the database runs: Debian's and Ubuntu's packages
/// and commands on the host, the compose service's otherwise. Settings, so
/// a test can point them at a cluster of its own.
public struct PostgresServer: Sendable {
    /// apt packages of the server (`postgresql`: the distribution's current major version).
    public var packages: [String]?
    /// psql as the server's superuser, reading SQL on stdin; on Debian the
    /// `postgres` OS user logs in over the local socket without a password (peer).
    public var psql: String?
    /// psql as the app connects: its own role, over TCP, with the password (PGPASSWORD).
    public var client: String?
    /// Exits 0 when the server accepts connections (asked as `postgres`: a
    /// role that does not exist would leave a FATAL line in the server's log).
    public var readyCommand: String?
    /// Starts it when it does not answer.
    public var startCommand: String?

    public init(packages: [String]? = nil, psql: String? = nil, client: String? = nil, readyCommand: String? = nil, startCommand: String? = nil) {
        self.packages = packages
        self.psql = psql
        self.client = client
        self.readyCommand = readyCommand
        self.startCommand = startCommand
    }

    func commands(_ defaults: PostgresServerCommands) -> PostgresServerCommands {
        PostgresServerCommands(packages: packages ?? defaults.packages, psql: psql ?? defaults.psql, client: client ?? defaults.client,
                               readyCommand: readyCommand ?? defaults.readyCommand, startCommand: startCommand ?? defaults.startCommand,
                               about: defaults.about)
    }
}

/// `PostgresServer`'s settings with the defaults filled in.
struct PostgresServerCommands: Sendable {
    var packages: [String]
    var psql: String
    var client: String
    var readyCommand: String
    var startCommand: String
    /// What the server is, for people: `PostgreSQL server`.
    var about: String

    static let debian = PostgresServerCommands(
        packages: ["postgresql"], psql: "runuser -u postgres -- psql", client: "psql",
        readyCommand: "runuser -u postgres -- pg_isready -q", startCommand: "service postgresql start", about: "PostgreSQL server")

    /// In the service's container: its superuser is the image's POSTGRES_USER
    /// (the official image's local socket trusts it); `up -d` starts it.
    static func compose(service: String, file: String?, engine: String, as user: String) -> PostgresServerCommands {
        let project = (user == "root" ? "" : "runuser -u \(Shell.quote(user)) -- ") + engine + (file.map { " -f " + Shell.quote($0) } ?? "")
        let exec = project + " exec -T"
        let superuser = Shell.quote("exec \"$0\" -U \"${POSTGRES_USER:-postgres}\" \"$@\"")
        return PostgresServerCommands(
            packages: [], psql: "\(exec) \(Shell.quote(service)) sh -c \(superuser) psql",
            client: "\(exec) -e PGPASSWORD -e PGCONNECT_TIMEOUT \(Shell.quote(service)) psql",
            readyCommand: "\(exec) \(Shell.quote(service)) sh -c \(superuser) pg_isready -q",
            startCommand: "\(project) up -d \(Shell.quote(service))", about: "PostgreSQL in the compose service \(service)")
    }
}

extension ServerConfig {
    /// With the database's password read from its setting while the task is
    /// planned, when provision sets the database up: an unset variable stops
    /// the run before it connects, naming it.
    func readingDatabasePassword() throws -> ServerConfig {
        guard var database, database.setUp(as: deployUser) != nil, let name = database.config.passwordSetting else { return self }
        switch Settings[name] {
        case .secret(let secret): database.password = secret
        case .plain(let text): database.password = Secret(text)
        }
        if let value = database.password?.reveal(), value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) {
            throw SwiftFabError(.config, "the database password (setting \(name)) holds a line break or a NUL byte, which no PostgreSQL client reads back",
                                hint: "use a password of one line")
        }
        var config = self
        config.database = database
        return config
    }

    /// The same, read when a host's task runs: a setting that cannot be read
    /// is a problem to report on that host, not a reason to stop.
    func readingDatabasePassword(_ settings: ResolvedSettings, run: RunContext) -> ServerConfig {
        guard var database else { return self }
        do { database.password = try PostgresTasks.password(database.config, settings, run: run) } catch let error as SwiftFabError {
            database.passwordProblem = error
        } catch {
            database.passwordProblem = SwiftFabError(.config, "\(error)")
        }
        var config = self
        config.database = database
        return config
    }

    /// The same config for a host: without the database when the host has none of its roles.
    func forHost(_ host: HostDefinition) -> ServerConfig {
        guard let database, !database.concerns(host.roles) else { return self }
        var config = self
        config.database = nil
        return config
    }
}
