import Foundation
import SwiftFab

/// Where an app lives on a server. Everything the deploy recipes touch is
/// under `root` (default `/srv/<app>`):
///
///     releases/<UTC timestamp>-<short sha>/   one per deploy, never changed after
///     shared/                                  what outlives releases (env file, media)
///     run/                                     sockets and slot state
///     deploy.lock/                             present while a deploy runs
public struct AppLayout: Sendable, Equatable {
    public var app: String
    public var root: String

    public init(app: String, root: String? = nil) {
        self.app = app
        self.root = root ?? "/srv/\(app)"
    }

    public var releases: String { root + "/releases" }
    public var shared: String { root + "/shared" }
    public var run: String { root + "/run" }
    public var lock: String { root + "/deploy.lock" }
    /// What takers of the lock (and the delayed slot stop) queue on with flock.
    public var lockGuard: String { root + "/.deploy.lock.guard" }
    public func release(_ name: String) -> String { releases + "/" + name }
    /// The env file `provision` puts on the server; a release without its own reads this one.
    public var sharedEnvFile: String { shared + "/.env" }

    /// `20261122T011500Z-1a2b3c4`: sorts by time, names the commit.
    public static func releaseName(for commit: GitCommit, at date: Date = Date()) -> String {
        UTCStamp.string(from: date) + "-" + commit.shortSHA
    }

    /// True for names this recipe created (and so may ever delete).
    public static func isReleaseName(_ name: String) -> Bool {
        name.range(of: "^" + UTCStamp.pattern + "-[0-9a-f]{7,40}$", options: .regularExpression) != nil
    }
}
