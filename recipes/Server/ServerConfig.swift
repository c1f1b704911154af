import Foundation
import SwiftFab

/// How a server hosts one blue/green app: what `provision` sets up, what
/// `doctor` checks and what `logs` tails. System paths and commands are
/// settings (with a real server's defaults), so a test host can keep them
/// in its own directories.
public struct ServerConfig: Sendable {
    public var app: BlueGreenConfig
    /// The user deploys log in as; it owns the app's directories.
    public var deployUser: String
    /// Public key lines allowed to log in as `deployUser`.
    public var authorizedKeys: [String]
    /// Where sshd reads them (default `~deployUser/.ssh/authorized_keys`).
    public var authorizedKeysFile: String?
    public var sudoersDir: String
    /// The deploy user's sudoers line (default: every command, no password).
    public var sudoersRule: String?
    /// apt packages installed (non-interactively, waiting for the apt lock);
    /// nil: what this config needs (`neededPackages`).
    public var packages: [String]?
    /// Seconds apt waits for another apt/dpkg to release its lock.
    public var aptLockWait: Int
    /// The app's proxy site; nil leaves the proxy alone.
    public var proxy: NginxSite?
    /// What brings the app's slots back after a reboot.
    public var boot: BootService
    /// Where the boot script goes (root-owned, outside the app's tree).
    public var bootScriptDir: String
    /// Compose files of what the app needs beside it (its database, a cache):
    /// the boot script brings each project up (`up -d`) before the slots.
    public var composeFiles: [String]
    /// The compose command on the server (Debian 12's package: `docker-compose`).
    public var composeCommand: String
    public var unattendedUpgrades: Bool
    /// Run the system commands through `sudo -n` (when deploying as a non-root user).
    public var sudo: Bool
    /// The group whose members read the system's logs (Debian's `adm`: nginx's and
    /// PostgreSQL's logs are `adm`'s, 0640): provision adds the deploy user to it,
    /// so `logs proxy` and `logs db` work without sudo. nil leaves its groups alone.
    public var logGroup: String?

    // What doctor knows besides the app's layout.
    /// Postgres to probe with `pg_isready`.
    public var postgres: PostgresProbe?
    /// The app's database (`watching(_:)`): its role's login checked, and set up where it runs on the server.
    public var database: ServerDatabase?
    /// Where backups are written (`<db>-<yyyyMMddTHHmmssZ>.dump`); nil skips the backup check.
    public var backups: String?
    public var backupMaxAgeHours: Double
    /// Filesystems whose free space is checked (default `/` and the app's root).
    public var volumes: [String]
    public var diskWarnPercent: Int
    public var diskFailPercent: Int
    /// The 5-minute load average per core that warns, and that fails.
    public var loadWarnPerCore: Double
    public var loadFailPerCore: Double
    /// An SSH round trip slower than this warns (the fastest of three probes).
    public var sshWarnSeconds: Double
    /// A path fetched through the proxy and from the live slot: both must answer the same.
    public var revisionPath: String
    /// Log files `logs db` tails.
    public var databaseLogs: [String]

    public init(app: BlueGreenConfig, deployUser: String = "deploy", authorizedKeys: [String] = [], authorizedKeysFile: String? = nil,
                sudoersDir: String = "/etc/sudoers.d", sudoersRule: String? = nil,
                packages: [String]? = nil, aptLockWait: Int = 300,
                proxy: NginxSite? = nil, boot: BootService = .automatic, bootScriptDir: String = "/usr/local/lib/swiftfab",
                unattendedUpgrades: Bool = false, sudo: Bool = false,
                postgres: PostgresProbe? = nil, backups: String? = nil, backupMaxAgeHours: Double = 24,
                volumes: [String]? = nil, diskWarnPercent: Int = 80, diskFailPercent: Int = 90,
                loadWarnPerCore: Double = 2, loadFailPerCore: Double = 4, sshWarnSeconds: Double = 0.5,
                revisionPath: String? = nil, databaseLogs: [String] = ["/var/log/postgresql/*.log"],
                composeFiles: [String] = [], composeCommand: String = "docker-compose", logGroup: String? = "adm") {
        self.app = app
        self.deployUser = deployUser
        self.authorizedKeys = authorizedKeys
        self.authorizedKeysFile = authorizedKeysFile
        self.sudoersDir = sudoersDir
        self.sudoersRule = sudoersRule
        self.packages = packages
        self.aptLockWait = aptLockWait
        self.proxy = proxy
        self.boot = boot
        self.bootScriptDir = bootScriptDir
        self.composeFiles = composeFiles
        self.composeCommand = composeCommand
        self.unattendedUpgrades = unattendedUpgrades
        self.sudo = sudo
        self.postgres = postgres
        self.backups = backups
        self.backupMaxAgeHours = backupMaxAgeHours
        self.volumes = volumes ?? ["/", app.layout.root]
        self.diskWarnPercent = diskWarnPercent
        self.diskFailPercent = diskFailPercent
        self.loadWarnPerCore = loadWarnPerCore
        self.loadFailPerCore = loadFailPerCore
        self.sshWarnSeconds = sshWarnSeconds
        // A stable answer by default: a home page may hold tokens or times that differ per request.
        self.revisionPath = revisionPath ?? app.healthPath
        self.databaseLogs = databaseLogs
        self.logGroup = logGroup
    }

    public var layout: AppLayout { app.layout }
    public var backupDir: String { backups ?? layout.root + "/backups" }
    public var sudoersFile: String {
        // sudo skips files in sudoers.d whose names hold a dot.
        sudoersDir + "/swiftfab-" + deployUser.replacingOccurrences(of: ".", with: "_")
    }
    public var sudoersLine: String { sudoersRule ?? "\(deployUser) ALL=(ALL) NOPASSWD:ALL" }

    /// `command` as this config runs system commands (through sudo or not).
    func system(_ command: Command) -> Command { sudo ? command.asSudo() : command }
}

/// One app's nginx server block, beside other apps' blocks on the same server.
public struct NginxSite: Sendable {
    /// The host name routed to this app (`server_name`).
    public var hostname: String
    /// nginx's `listen` value: `80`, `127.0.0.1:8080`.
    public var listen: String
    /// Directory nginx includes site files from; this app's is `<app>.conf`.
    public var sitesDir: String
    public var testCommand: String
    public var reloadCommand: String
    /// What starts nginx when it is not running (doctor's hint).
    public var startCommand: String
    /// Present and naming a live process while nginx runs.
    public var pidFile: String
    /// Where the proxy answers on the server itself (doctor sends `Host: hostname`).
    public var localURL: String
    public var logs: [String]
    /// The group nginx's workers run in (Debian: `www-data`). The app's `run/`
    /// folder is given to it (setgid, 2750), so the slots' sockets are its
    /// group's and nginx may connect to them while running as another user
    /// than the app; with HTTPS, its workers read the certificate's key.
    public var group: String = "www-data"
    /// nginx's own log files on Debian and Ubuntu (`logs proxy` tails them without a site too).
    public static let defaultLogs = ["/var/log/nginx/access.log", "/var/log/nginx/error.log"]
    /// Extra lines inside the server block (`client_max_body_size 20m;`).
    public var extraDirectives: [String]
    /// HTTPS (`.acme(email:)` or `.files(certificate:key:)`): served on its own `listen`, this one redirects there; nil: HTTP only.
    public var tls: TLSConfig?

    public init(hostname: String, listen: String = "80", sitesDir: String = "/etc/nginx/sites-enabled",
                testCommand: String = "nginx -t", reloadCommand: String = "service nginx reload || service nginx start", startCommand: String = "service nginx start",
                pidFile: String = "/run/nginx.pid", localURL: String = "http://127.0.0.1",
                logs: [String] = NginxSite.defaultLogs, extraDirectives: [String] = [], tls: TLSConfig? = nil) {
        self.hostname = hostname
        self.listen = listen
        self.sitesDir = sitesDir
        self.testCommand = testCommand
        self.reloadCommand = reloadCommand
        self.startCommand = startCommand
        self.pidFile = pidFile
        self.localURL = localURL
        self.logs = logs
        self.extraDirectives = extraDirectives
        self.tls = tls
    }
}

/// What starts the app's slots when the server boots.
public enum BootService: Sendable, Equatable {
    /// systemd when it runs on the host, supervisor otherwise (decided on each host).
    case automatic
    /// A supervisor program in `confDir`; `control` is the supervisorctl command line.
    case supervisor(confDir: String = "/etc/supervisor/conf.d", control: String = "supervisorctl")
    /// A oneshot unit in `unitDir`, enabled for multi-user.target.
    case systemd(unitDir: String = "/etc/systemd/system")
    case none
}

/// Where Postgres answers, for `pg_isready`.
public struct PostgresProbe: Sendable {
    public var host: String
    public var port: Int
    public var user: String?

    public init(host: String = "127.0.0.1", port: Int = 5432, user: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
    }
}
