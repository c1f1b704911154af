import Foundation
import SwiftFab

/// How an app is deployed blue/green. Slots are containers (or processes
/// under an app-local supervisord, `<root>/run/supervisord.conf`), each
/// serving on its own unix socket; the proxy's upstream is `<root>/run/live.sock`, a symlink swapped
/// atomically between `blue.sock` and `green.sock` (no proxy reload, so
/// keep-alive clients lose nothing).
public struct BlueGreenConfig: Sendable {
    public var layout: AppLayout
    /// Runs in the release directory; `{socket}` becomes the slot's socket path.
    /// Example: `/usr/bin/python3 -m gunicorn --workers 2 --bind unix:{socket} app:app`
    public var command: String
    public var healthPath: String
    /// The HTTP status a healthy slot answers at `healthPath`.
    public var healthStatus: Int
    /// Seconds a new slot may take to answer its health check.
    public var healthTimeout: Double
    public var keepReleases: Int
    /// Where the local git repository is (default: the Deployfile's).
    public var repository: String
    /// Fetched through the proxy after a switch; it must answer, and answer
    /// what the new slot answers for the same path, so with a path that names
    /// the revision (`http://127.0.0.1/version`) it proves the new release
    /// serves. On failure traffic switches back. Nil skips it.
    public var proxyCheckURL: String?
    /// The Host header for that check, when the proxy routes by name
    /// (`shop.example.com` for a site with `server_name shop.example.com`).
    public var proxyCheckHost: String?
    public var roles: [Role]
    /// Shell commands run in the new release before traffic moves to it
    /// (migrations, collectstatic); any failure aborts the deploy.
    public var beforeSwitch: [String]
    /// Requests sent to the new slot before the switch, so its first real
    /// users don't pay for cold caches and lazy imports.
    public var warmupRequests: Int
    /// A local env file (KEY=VALUE lines, usually secrets): uploaded to
    /// `shared/.env` with mode 0600 on each deploy and loaded into every
    /// slot's environment. Its values never appear in commands or output.
    public var envFile: String?
    /// Stop the old slot this many seconds after a switch (nil: keep it warm,
    /// so `rollback` is instant). A rollback after the stop starts it again.
    public var stopOldSlotAfter: Double?
    /// How many hosts deploy, promote and roll back at once; the next batch
    /// starts only when the whole batch is live and still healthy, and never
    /// after a failure.
    public var batch: Batch
    /// With N > 0, the first N hosts go alone first (the canary), then the rest by `batch`.
    public var canary: Int
    /// Seconds to wait after a batch (the canary serves real traffic meanwhile)
    /// before its hosts are checked again and the next batch starts.
    public var pauseBetweenBatches: Double

    public enum Batch: Sendable, Equatable {
        /// N hosts at a time.
        case hosts(Int)
        /// N percent of the hosts at a time (at least one).
        case percent(Int)
        /// Every host at once.
        case all
    }

    /// `batch: .hosts(N)`, as a number.
    public var batchSize: Int { if case .hosts(let count) = batch { return count } else { return 0 } }

    /// How the rollout spreads over the hosts.
    public var strategy: Strategy { canary > 0 ? .canary(canary, then: rollbackStrategy) : rollbackStrategy }

    /// How a rollback spreads: the same batches, without a canary.
    public var rollbackStrategy: Strategy {
        switch batch {
        case .hosts(let count): return .rolling(max(1, count))
        case .percent(let percent): return .rollingPercent(min(100, max(1, percent)))
        case .all: return .parallel
        }
    }
    /// How a slot runs: a container (default) or a supervised process.
    public var runtime: Runtime

    public enum Runtime: Sendable {
        /// `command` under the app's supervisord, in the release directory.
        case process
        /// `command` in a container (`docker` or `podman`): the release is
        /// mounted read-only at /app, the app's run/ directory at its own path
        /// (for the socket). The image is the release's Dockerfile built only
        /// when its dependency fingerprint changes, or a given image reference.
        case container(ContainerRuntime)
    }

    public init(app: String, root: String? = nil, command: String, healthPath: String = "/healthz", healthStatus: Int = 200, healthTimeout: Double = 30,
                keepReleases: Int = 5, repository: String = ".", proxyCheckURL: String? = nil, proxyCheckHost: String? = nil, roles: [Role] = [.web],
                beforeSwitch: [String] = [], warmupRequests: Int = 0, envFile: String? = nil, stopOldSlotAfter: Double? = nil,
                batchSize: Int = 1, batch: Batch? = nil, canary: Int = 0, pauseBetweenBatches: Double = 0,
                runtime: Runtime = .container(ContainerRuntime())) {
        self.layout = AppLayout(app: app, root: root)
        self.command = command
        self.healthPath = healthPath
        self.healthStatus = healthStatus
        self.healthTimeout = healthTimeout
        self.keepReleases = keepReleases
        self.repository = repository
        self.proxyCheckURL = proxyCheckURL
        self.proxyCheckHost = proxyCheckHost
        self.roles = roles
        self.beforeSwitch = beforeSwitch
        self.warmupRequests = warmupRequests
        self.envFile = envFile
        self.stopOldSlotAfter = stopOldSlotAfter
        self.batch = batch ?? .hosts(max(1, batchSize))
        self.canary = max(0, canary)
        self.pauseBetweenBatches = max(0, pauseBetweenBatches)
        self.runtime = runtime
    }
}

public enum Slot: String, Sendable, CaseIterable {
    case blue, green
    public var other: Slot { self == .blue ? .green : .blue }
}

/// Containers for slots. `engine` is the command that speaks Docker's CLI:
/// `docker`, `podman`, or a longer command line (`env DOCKER_HOST=... docker`).
public struct ContainerRuntime: Sendable {
    public var engine: String
    /// A ready image; nil builds the release's `dockerfile`.
    public var image: String?
    public var dockerfile: String
    /// Files (in the release) whose content decides when the image is rebuilt,
    /// with the Dockerfile: lock files, requirements. Empty: the files and
    /// folders the Dockerfile's COPY and ADD lines name.
    public var dependencyFiles: [String]

    public init(engine: String = "docker", image: String? = nil, dockerfile: String = "Dockerfile", dependencyFiles: [String] = []) {
        self.engine = engine
        self.image = image
        self.dockerfile = dockerfile
        self.dependencyFiles = dependencyFiles
    }
}

extension BlueGreenConfig {
    /// Relative paths (the repository, the env file) are the Deployfile's, wherever swiftfab was started.
    public func resolvingPaths(in run: RunContext) -> BlueGreenConfig {
        var config = self
        config.repository = URL(fileURLWithPath: run.path(repository)).standardizedFileURL.path
        config.envFile = envFile.map { URL(fileURLWithPath: run.path($0)).standardizedFileURL.path }
        return config
    }
}
