import Foundation
import SwiftFab

/// One deploy at a time per app and host. The lock directory is built aside
/// with the holder's name, revision and time inside, then renamed into place:
/// rename(2) is atomic and fails when the lock already exists, so exactly one
/// of two racing deploys wins, and the other always finds who holds it.
public struct DeployLock: Sendable {
    public var layout: AppLayout

    public init(layout: AppLayout) { self.layout = layout }

    public struct Holder: Sendable, Equatable {
        public var who: String
        public var revision: String
        public var since: String
    }

    /// Takes the lock or fails; the output is the current holder when taken.
    public func acquire(who: String, revision: String, at date: Date = Date()) -> Command {
        let stamp = ISO8601DateFormatter().string(from: date)
        return Command(shell: """
            mkdir -p \(layout.root) && aside=$(mktemp -d \(layout.root + "/.lock.XXXXXX")) && \
            printf '%s\\n%s\\n%s\\n' \(who) \(revision) \(stamp) > "$aside/holder" && \
            if mv -T "$aside" \(layout.lock) 2>/dev/null; then :; else rm -rf "$aside"; cat \(layout.lock + "/holder") 2>/dev/null; exit 75; fi
            """)
    }

    public func release() -> Command {
        Command(shell: "rm -rf \(layout.lock)")
    }

    /// The holder, if the lock is held.
    public func inspect() -> Command {
        Command(shell: "cat \(layout.lock + "/holder") 2>/dev/null || true")
    }

    public static func parse(_ output: String) -> Holder? {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, !lines[0].isEmpty else { return nil }
        return Holder(who: lines[0], revision: lines[1], since: lines[2])
    }

    /// Takes the lock on `host`, waiting up to `wait` seconds for another deploy to finish.
    public func take(on backend: any Backend, who: String, revision: String, wait: Double = 0) async throws {
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let result = try await backend.run(acquire(who: who, revision: revision))
            if result.succeeded { return }
            guard result.exitStatus == 75 else {
                throw SwiftFabError(.command, host: backend.host, "cannot take the deploy lock: \(result.stderrText)")
            }
            if Date() >= deadline {
                let holder = Self.parse(result.stdoutText)
                let who = holder.map { "\($0.who) (revision \($0.revision), since \($0.since))" } ?? "an unknown holder"
                throw SwiftFabError(.command, host: backend.host, "another deploy holds the lock: \(who)",
                                    hint: "wait for it (--lock-wait SECONDS), or if it died, run: swiftfab unlock")
            }
            try await _Concurrency.Task.sleep(for: .milliseconds(500))
        }
    }
}
