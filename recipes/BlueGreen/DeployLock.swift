import Foundation
import SwiftFab

/// One deploy at a time per app and host. The lock directory is built aside
/// with the holder's name, revision and time inside, then renamed into place:
/// rename(2) is atomic and fails when the lock already exists, so exactly one
/// of two racing deploys wins, and the other always finds who holds it.
public struct DeployLock: Sendable {
    public var layout: AppLayout

    public init(layout: AppLayout) { self.layout = layout }

    /// Who holds the lock: who, revision, since, sshd session, user id, token (one a line).
    var holderFile: String { layout.lock + "/holder" }

    public struct Holder: Sendable, Equatable {
        public var who: String
        public var revision: String
        public var since: String
    }

    /// Takes the lock or fails with status 75 and the holder on stdout. The
    /// holder's 4th line is the sshd process serving its connection (pid and
    /// start time), the 5th its user id, the 6th a token only this deploy
    /// knows. When that process is gone the deploy died with its connection,
    /// so the lock is stale and is replaced; the old holder is then printed
    /// after a `stale` line. Only the same user (or root) judges that: other
    /// users may not see the process at all (`hidepid`). Takers queue on a
    /// guard file (flock), so checking and replacing cannot race another taker.
    public func acquire(who: String, revision: String, token: String, at date: Date = Date()) -> Command {
        let stamp = ISO8601DateFormatter().string(from: date)
        return Command(shell: """
            mkdir -p \(layout.root) && exec 9>\(layout.lockGuard) && \
            if ! flock -w 30 9; then echo 'the deploy lock guard stayed busy for 30 s' >&2; exit 1; fi; \
            \(raw: Self.sessionProcess) \
            aside=$(mktemp -d \(layout.root + "/.lock.XXXXXX")) && \
            printf '%s\\n%s\\n%s\\n%s\\n%s\\n%s\\n' \(who) \(revision) \(stamp) "$session" "$(id -u)" \(token) > "$aside/holder" || exit 1; \
            if mv -T "$aside" \(layout.lock) 2>/dev/null; then exit 0; fi; \
            owner=$(sed -n 5p \(holderFile) 2>/dev/null); set -- $(sed -n 4p \(holderFile) 2>/dev/null); \
            if { [ "$(id -u)" = 0 ] || [ "$owner" = "$(id -u)" ]; } && \(raw: Self.sessionGone); then \
            echo stale; cat \(holderFile); rm -rf \(layout.lock); mv -T "$aside" \(layout.lock) && exit 0; fi; \
            rm -rf "$aside"; cat \(holderFile) 2>/dev/null; exit 75
            """).described("take the deploy lock (\(layout.lock); a lock whose deploy lost its connection is replaced)")
    }

    /// Sets `session` to "PID STARTTIME" of the nearest sshd ancestor (`sshd`,
    /// or `sshd-session` from OpenSSH 9.8 on): the per-connection process,
    /// alive exactly as long as this SSH connection.
    static let sessionProcess = """
        session=; p=$$; while [ "${p:-0}" -gt 1 ]; do \
        case "$(cat /proc/$p/comm 2>/dev/null)" in sshd|sshd-session) session="$p $(sed 's/.*) //' /proc/$p/stat | cut -d' ' -f20)"; break;; esac; \
        p=$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | cut -d' ' -f2); done;
        """

    /// True when the sshd session "PID STARTTIME" in `$1 $2` (a holder's 4th line) is gone,
    /// or its pid now belongs to a process started at another time.
    static let sessionGone = #"[ -n "${1:-}" ] && [ "$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -d' ' -f20)" != "${2:-}" ]"#

    /// Removes the lock whoever holds it, saying whose it was (`swiftfab unlock`).
    public func release() -> Command {
        Command(shell: "cat \(holderFile) 2>/dev/null | head -1 | sed 's/^/removing the lock of: /'; rm -rf \(layout.lock)")
            .described("remove the deploy lock, whoever holds it")
    }

    /// Removes the lock only if it is still this deploy's: a deploy whose
    /// connection dropped may have lost it to another, whose lock stays.
    public func release(token: String) -> Command {
        Command(shell: "if [ \"$(sed -n 6p \(holderFile) 2>/dev/null)\" = \(token) ]; then rm -rf \(layout.lock); fi")
            .described("release the deploy lock (only if it is still this run's)").asCleanup()
    }

    /// Exits 0 while the lock is this deploy's.
    public func holds(token: String) -> Command {
        Command(shell: "[ \"$(sed -n 6p \(holderFile) 2>/dev/null)\" = \(token) ]")
            .described("check the deploy lock is still this run's before traffic moves")
    }

    /// The holder, if the lock is held.
    public func inspect() -> Command {
        Command(shell: "cat \(holderFile) 2>/dev/null || true").described("ask who holds the deploy lock")
    }

    /// The holder, if the lock is held, then `stale=yes` when its connection is gone
    /// (whoever asks: a report, not a judgement that clears the lock).
    public func inspectStaleness() -> Command {
        Command(shell: """
            cat \(holderFile) 2>/dev/null || exit 0; set -- $(sed -n 4p \(holderFile)); \
            if \(raw: Self.sessionGone); then echo stale=yes; fi
            """).described("ask who holds the deploy lock, and whether its connection is gone")
    }

    public static func parse(_ output: String) -> Holder? {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, !lines[0].isEmpty else { return nil }
        return Holder(who: lines[0], revision: lines[1], since: lines[2])
    }

    /// Takes the lock on `host`, waiting up to `wait` seconds for another
    /// deploy to finish. Returns the token that releases it.
    @discardableResult
    public func take(on backend: any Backend, who: String, revision: String, wait: Double = 0,
                     note: @Sendable (String) -> Void = { _ in }) async throws -> String {
        let token = UUID().uuidString
        let deadline = Date().addingTimeInterval(wait)
        var said = false
        while true {
            let result = try await backend.run(acquire(who: who, revision: revision, token: token))
            if result.succeeded {
                let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
                if lines.first == "stale", let old = Self.parse(lines.dropFirst().joined(separator: "\n")) {
                    note("cleared a stale deploy lock of \(old.who) (revision \(old.revision), since \(old.since)): its connection is gone")
                }
                return token
            }
            guard result.exitStatus == 75 else {
                throw SwiftFabError(.command, host: backend.host, "cannot take the deploy lock: \(result.stderrText)")
            }
            let holder = Self.parse(result.stdoutText)
            let who = holder.map { "\($0.who) (revision \($0.revision), since \($0.since))" } ?? "an unknown holder"
            if Date() >= deadline {
                throw SwiftFabError(.command, host: backend.host, "another deploy holds the lock: \(who)",
                                    hint: "wait for it (--lock-wait SECONDS), or if it died, run: swiftfab unlock")
            }
            if !said {
                note("another deploy holds the lock: \(who); waiting up to \(Format.seconds(wait)) for it")
                said = true
            }
            try await _Concurrency.Task.sleep(for: .milliseconds(500))
        }
    }

    /// Throws unless the lock is still this deploy's (checked before traffic moves).
    public func ensureHeld(on backend: any Backend, token: String) async throws {
        guard try await backend.run(holds(token: token)).succeeded else {
            throw SwiftFabError(.command, host: backend.host,
                                "this deploy lost its lock (its connection dropped and another deploy took the lock over); traffic was not moved",
                                hint: "see who deploys now: swiftfab status; then deploy again")
        }
    }
}
