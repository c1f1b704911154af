import Foundation
import SwiftFab

/// The server-side commands of the blue/green recipe, as values, and the
/// one home of what a slot is on the server (its socket, release file, log,
/// container or program, and how it starts and stops): other recipes ask here.
public struct SlotCommands: Sendable {
    public var config: BlueGreenConfig
    var layout: AppLayout { config.layout }

    public init(config: BlueGreenConfig) { self.config = config }

    /// The process runtime's app-local supervisord: its config, and the control command that reads it.
    public var supervisorConf: String { layout.run + "/supervisord.conf" }
    public var supervisorctl: ShellString { "supervisorctl -c \(supervisorConf)" }
    /// The folder of the slots' program sections, which that supervisord includes.
    var slotPrograms: String { layout.run + "/slots" }

    /// `blue.sock`: where a slot serves, beside `live.sock` (which links to one of them).
    func socketName(_ slot: Slot) -> String { slot.rawValue + ".sock" }
    public func socket(_ slot: Slot) -> String { layout.run + "/" + socketName(slot) }
    /// Each release keeps the environment it was deployed with, beside its
    /// code: a slot restarted later, a hook and a rollback all read that one,
    /// never a newer deploy's (which may not have been proven yet).
    public func envFile(_ release: String) -> String { layout.release(release) + "/" + Self.envFileName }
    static let envFileName = ".swiftfab.env"

    /// Writes the env file's text (given on stdin, so no value is ever in a
    /// command line) into `release`, 0600 from the start, renamed into place.
    public func writeEnvFile(release: String) -> Command {
        let target = envFile(release)
        return Command(shell: "umask 077 && cat > \(target + ".new") && mv -f \(target + ".new") \(target)")
            .described("write release \(release)'s env file (0600; the values travel on stdin)")
    }

    /// Shell text that exports the env file's variables: `dir` is where the
    /// release is seen (its path on the host, or `/app` in a container).
    func sourceEnv(_ dir: String) -> String {
        let own = Shell.quote(dir + "/" + Self.envFileName)
        return "set -a; if [ -f \(own) ]; then . \(own); else . \(Shell.quote(layout.sharedEnvFile)); fi; set +a; "
    }
    public var liveSocket: String { layout.run + "/live.sock" }
    /// A slot's supervisor program: named as its container would be.
    public func program(_ slot: Slot) -> String { container(slot) }
    var logs: String { layout.run + "/logs" }
    public func log(_ slot: Slot) -> String { logs + "/\(slot.rawValue).log" }
    /// The log of the slot `slot` names as a shell word (`blue`, or `"$live"` read on the host).
    func log(word slot: ShellString) -> ShellString { "\(logs)/\(slot).log" }

    /// Which slot is live ("blue", "green", or nothing yet).
    public func liveSlot() -> Command {
        Command(shell: "readlink \(liveSocket) 2>/dev/null | sed -n 's/\\.sock$//p'")
            .described("ask which slot is live").assuming("blue\n", because: "slot blue is live")
    }

    /// Release names a dry run assumes (an example of each role a release plays).
    static let assumedRelease: [Slot: String] = [.blue: "20261124T090000Z-aaaaaaa", .green: "20261123T090000Z-bbbbbbb"]

    /// The release a slot runs (empty when it never ran).
    public func slotRelease(_ slot: Slot) -> Command {
        Command(shell: "cat \(slotReleaseFile(slot)) 2>/dev/null || true").described("ask which release slot \(slot.rawValue) runs")
            .assuming(Self.assumedRelease[slot]! + "\n", because: "slot \(slot.rawValue) runs \(Self.assumedRelease[slot]!)")
    }

    /// The commit a release was made from.
    public func revision(of release: String) -> Command {
        Command("cat", layout.release(release) + "/" + ReleaseShipper.revisionFile).described("read the commit release \(release) was made from")
    }

    /// The commit file of the release named in the shell variable `variable` (read on the host).
    public func revisionFile(releaseIn variable: String) -> ShellString {
        "\(layout.releases)/\"$\(raw: variable)\"/\(ReleaseShipper.revisionFile)"
    }

    /// The folders slots need (the process runtime's supervisord makes its own).
    public func prepareFolders() -> Command {
        Command("mkdir", "-p", layout.run, layout.shared).described("make sure \(layout.run) and \(layout.shared) exist")
    }

    /// `deploy --stage` left `slot` ready; `promote` reads it, a switch clears it.
    public func markStaged(_ slot: Slot) -> Command {
        Command(shell: "printf '%s\\n' \(slot.rawValue) > \(stagedFile)").described("record slot \(slot.rawValue) as staged (\(stagedFile))")
    }

    public func stagedSlot() -> Command {
        Command(shell: "cat \(stagedFile) 2>/dev/null || true").described("ask which slot is staged")
            .assuming("green\n", because: "slot green is staged")
    }

    public func clearStaged() -> Command {
        Command(shell: "rm -f \(stagedFile)").described("forget the staged slot")
    }

    /// No slot live (a first deploy whose check through the proxy failed).
    public func unsetLive() -> Command {
        Command("rm", "-f", liveSocket).described("take traffic off (no release was live before)")
    }

    /// A release's metadata, as JSON (empty when missing).
    public func metadata(of release: String) -> Command {
        Command(shell: "cat \(layout.release(release) + "/" + ReleaseShipper.metadataFile) 2>/dev/null || true")
            .described("read release \(release)'s metadata")
    }

    /// Every release, newest first, with its metadata (`releases`).
    public func releaseListing() -> Command {
        Command(shell: """
            cd \(layout.releases) 2>/dev/null || exit 0; for r in $(ls -1 | sort -r); do \
            printf '%s\\t' "$r"; cat "$r/\(ReleaseShipper.metadataFile)" 2>/dev/null || echo '{}'; done
            """).described("list the releases with their metadata")
    }

    /// `<run>/<slot>.release`: the release a slot runs, written when it starts.
    public func slotReleaseFile(_ slot: Slot) -> String { layout.run + "/\(slot.rawValue).release" }
    /// Present while swiftfab keeps `slot` stopped (a delayed stop, a failed
    /// deploy's new slot): after a reboot the slot stays as it was.
    public func stoppedMarker(_ slot: Slot) -> String { layout.run + "/\(slot.rawValue).stopped" }
    /// The same file for the slot named in the shell variable `variable` (read on the host).
    public func slotReleaseFile(slotIn variable: String) -> ShellString { "\(layout.run)/\"$\(raw: variable)\".release" }

    /// The app's own supervisord, started if it is not running. One starting at
    /// the same moment (the boot service) is fine: what counts is that one answers.
    public func ensureSupervisor() -> Command {
        let conf = """
            [unix_http_server]
            file=\(layout.run)/supervisor.sock
            [supervisord]
            pidfile=\(layout.run)/supervisord.pid
            logfile=\(logs)/supervisord.log
            childlogdir=\(logs)
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
            [supervisorctl]
            serverurl=unix://\(layout.run)/supervisor.sock
            [include]
            files = \(slotPrograms)/*.conf

            """
        return Command(shell: """
            mkdir -p \(slotPrograms) \(logs) && printf '%s' \(conf) > \(supervisorConf) && \
            { \(supervisorctl) pid >/dev/null 2>&1 || out=$(supervisord -c \(supervisorConf) 2>&1); } ; \
            for i in $(seq 50); do \(supervisorctl) pid >/dev/null 2>&1 && exit 0; sleep 0.1; done; \
            echo "supervisord did not start (${out:-no message}): see \(logs)/supervisord.log" >&2; exit 1
            """).described("start the app's supervisord (\(supervisorConf)) unless it runs")
    }

    /// How this app's slots run: its runtime's commands (`SlotRuntimes.swift`).
    var runtime: any SlotRuntime {
        switch config.runtime {
        case .process: return ProcessSlots(slots: self)
        case .container(let container): return ContainerSlots(slots: self, runtime: container)
        }
    }

    /// Points `slot` at `release` and (re)starts it.
    public func start(_ slot: Slot, release: String) -> Command { runtime.start(slot, release: release) }

    /// What starting a slot needs first, and what its failure means when it stops the deploy.
    public func prepareSlots() -> (command: Command, failure: String?) { runtime.prepare() }

    /// `<app>-<slot>`: a slot's container, or its supervisor program.
    public func container(_ slot: Slot) -> String { "\(layout.app)-\(slot.rawValue)" }
    /// A slot's container or program, as a shell word.
    func name(_ slot: Slot) -> ShellString { .word(container(slot)) }
    /// The container or program of the slot `slot` names as a shell word.
    func name(word slot: ShellString) -> ShellString { "\(layout.app)-\(slot)" }
    /// The container or program of the slot named in the shell variable `variable` (read on the host).
    public func name(slotIn variable: String) -> ShellString { name(word: "\"$\(raw: variable)\"") }

    /// The runtime's own command for one slot: `supervisorctl -c <conf> <verb> <program>`,
    /// or `<engine> <verb> <container>`.
    public func slotControl(_ verb: String, _ slot: Slot) -> ShellString { runtime.control(verb, slot) }

    /// `exec ` for a plain command line (so the app is PID 1 and gets the
    /// engine's SIGTERM); nothing for one that sets variables first or chains
    /// commands, which `exec` would break.
    static func execPrefix(_ command: String) -> String {
        let first = command.split(separator: " ").first.map(String.init) ?? ""
        let chained = ["&&", "||", ";", "|", "\n"].contains { command.contains($0) }
        return chained || first.contains("=") || first == "exec" ? "" : "exec "
    }

    /// Prints what the dependency image is made of: the Dockerfile and the
    /// dependency files, or else every file the Dockerfile's COPY/ADD lines
    /// name (`COPY . /app` bakes the code in, so then any change rebuilds).
    func fingerprint(_ runtime: ContainerRuntime) -> ShellString {
        guard runtime.dependencyFiles.isEmpty else { return "cat \([runtime.dockerfile] + runtime.dependencyFiles)" }
        let dockerfile = runtime.dockerfile
        // Continued lines are joined, the JSON form's brackets and quotes dropped, and each source
        // left unquoted so that its glob (`COPY requirements*.txt`) expands as the build sees it.
        return "{ cat \(dockerfile); sed -e ':a' -e '/\\\\$/N; s/\\\\\\n//; ta' \(dockerfile) "
            + "| sed -nE 's/^[[:space:]]*(COPY|ADD|copy|add)[[:space:]]+//p' | grep -v -- '--from' "
            + "| sed -E 's/--[a-z-]+=[^ ]+ //g; s/[][\",]/ /g' | awk '{ for (i = 1; i < NF; i++) print $i }' | sort -u "
            + "| while read -r source; do for path in $source; do [ -e \"$path\" ] && find \"$path\" -type f; done; done "
            + "| LC_ALL=C sort -u | while read -r file; do sha256sum \"$file\"; done; }"
    }

    /// The slots make their sockets 0770: the proxy reaches them through the
    /// run folder's group (provision's setgid `run/`), nobody else does.
    static let socketUmask = "umask 007; "

    /// Stops `slot` after `seconds`, in the background on the host, but only if
    /// by then it still runs `release`, is not live (a newer deploy may have
    /// reused it) and no deploy runs: it holds the lock's guard from the check
    /// to the stop, so no deploy can start in between. While a deploy holds the
    /// lock it waits (up to an hour, then leaves the slot running: the safe side).
    public func stopLater(_ slot: Slot, release: String, after seconds: Double) -> Command {
        let check: ShellString = """
            sleep \(seconds); exec 9>\(layout.lockGuard); flock 9 || exit 1; n=0; \
            while [ -e \(layout.lock) ] && [ $n -lt 3600 ]; do flock -u 9; sleep 1; flock 9 || exit 1; n=$((n + 1)); done; \
            [ ! -e \(layout.lock) ] && [ "$(cat \(slotReleaseFile(slot)) 2>/dev/null)" = \(release) ] && \
            [ "$(readlink \(liveSocket))" != \(socketName(slot)) ] && { \(stop(slot).script); }
            """
        return Command(shell: "nohup sh -c \(check.rendered()) </dev/null >/dev/null 2>&1 &")
            .described("stop slot \(slot.rawValue) in \(Format.seconds(seconds)), in the background, unless it is live, reused or a deploy runs by then")
    }

    /// What runs the slots right now: the app's supervisor programs, or its containers.
    public func processes() -> Command { runtime.processes() }

    /// Stopping a slot is what a failed or stopped run does to clean up: it
    /// runs, and runs to its end, even after Ctrl-C (`.cleanup`).
    public func stop(_ slot: Slot) -> Command {
        // The marker (and the runtime's own boot setting) keeps it stopped across a reboot.
        Command(shell: "\(runtime.stop(slot))touch \(stoppedMarker(slot)) 2>/dev/null || true").described("stop slot \(slot.rawValue)").asCleanup()
    }

    /// Starts a stopped slot again, with the release it ran (`start` points a slot at a release).
    public func startAgain(_ slot: Slot) -> Command {
        Command(shell: "rm -f \(stoppedMarker(slot)); \(runtime.keepStartedAtBoot(slot))\(slotControl("start", slot)) >/dev/null").described("start slot \(slot.rawValue) again")
    }

    /// A process slot's supervisor program file.
    func programConf(_ slot: Slot) -> String { slotPrograms + "/\(slot.rawValue).conf" }

    /// Exits 0 when `slot` is neither running, starting nor stopping: the proof that a stop took effect.
    public func isStopped(_ slot: Slot) -> Command {
        Command(shell: "! { \(runtime.isActive(slot)); }").described("check slot \(slot.rawValue) has stopped")
    }

    /// Polls the slot's own socket on the server, one round trip for the whole wait.
    public func healthCheck(_ slot: Slot, timeout: Double? = nil) -> Command {
        // A wall-clock limit: an app that accepts connections and then hangs still fails in time.
        let limit = max(1, Int((timeout ?? config.healthTimeout).rounded(.up)))
        return Command(shell: """
            end=$(( $(date +%s) + \(limit) )); code=none; while :; do \
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --unix-socket \(socket(slot)) \(Word("http://localhost\(config.healthPath)"))); \
            [ "$code" = \(String(config.healthStatus)) ] && exit 0; [ $(date +%s) -ge $end ] && break; sleep 0.2; done; \
            echo "no healthy answer within \(limit)s (last: HTTP $code)" >&2; exit 1
            """).described("health-check slot \(slot.rawValue): \(config.healthPath) on its socket must answer \(config.healthStatus) within \(limit)s")
    }

    /// What a switch does to `run/previous`, the rollback target.
    public enum PreviousRelease: Sendable, Equatable {
        case keep, set(String), remove
    }

    /// Makes `slot` live: a symlink renamed over the old one (atomic), and the
    /// rollback target written in the same command: staged beside it first,
    /// renamed into place right after the swap (never truncated in place), and
    /// the command ignores the signals that stop a run, so it cannot be cut between the two.
    public func switchTo(_ slot: Slot, previous: PreviousRelease = .keep) -> Command {
        let swap: ShellString = "ln -sfn \(socketName(slot)) \(liveSocket + ".new") && mv -T \(liveSocket + ".new") \(liveSocket)"
        let staged = previousFile + ".new"
        let what = "switch traffic: live.sock -> \(slot.rawValue).sock"
        switch previous {
        case .keep:
            return Command(shell: "trap '' HUP INT TERM; \(swap)").described(what).finishingWhenInterrupted()
        case .remove:
            return Command(shell: "trap '' HUP INT TERM; \(swap) && rm -f \(previousFile)").described(what + "; no rollback target").finishingWhenInterrupted()
        case .set(let release):
            return Command(shell: """
                trap '' HUP INT TERM; printf '%s\\n' \(release) > \(staged) || exit 1; \
                if ! { \(swap); }; then rm -f \(staged); exit 1; fi; \
                mv -f \(staged) \(previousFile) || { printf 'traffic moved, but the rollback target %s could not be written\\n' \(previousFile) >&2; exit 1; }
                """).described(what + "; rollback target: \(release) (run/previous, written in the same command)").finishingWhenInterrupted()
        }
    }

    /// The release in `run/previous` (empty when there is none).
    public func previousRelease() -> Command {
        Command(shell: "cat \(previousFile) 2>/dev/null || true").described("ask which release is the rollback target")
            .assuming(Self.assumedRelease[.green]! + "\n", because: "the rollback target is \(Self.assumedRelease[.green]!)")
    }

    /// A hook in the release's directory, with the slot's variables.
    public func hook(_ script: String, release: String, slot: Slot) -> Command {
        let withEnv = config.envFile == nil ? script : sourceEnv(layout.release(release)) + script
        return Command.raw(withEnv).within(layout.release(release))
            .with(environment: ["SWIFTFAB_RELEASE": release, "SWIFTFAB_SLOT": slot.rawValue, "SWIFTFAB_SHARED": layout.shared])
            .described("run `\(script)` in release \(release) (slot \(slot.rawValue)'s environment)")
    }

    /// `count` requests, 8 at a time, to the slot's own socket.
    public func warmup(_ slot: Slot, count: Int) -> Command {
        Command(shell: "seq \(count) | xargs -P 8 -I{} curl -s -o /dev/null --max-time 10 --unix-socket \(socket(slot)) http://localhost/")
            .described("warm slot \(slot.rawValue) up with \(count) requests")
    }

    /// The slot whose release is started and healthy but not live (`deploy --stage`).
    public var stagedFile: String { layout.run + "/staged" }
    /// The release that was live before the last switch: what `rollback` returns to.
    public var previousFile: String { layout.run + "/previous" }

    public func lastLogLines(_ slot: Slot, count: Int = 20) -> Command {
        Command(shell: "\(runtime.logTail(.word(slot.rawValue), lines: count, follow: false)) || true").described("read slot \(slot.rawValue)'s last log lines")
    }

    /// After a switch to `slot`: the proxy must answer `url`, and answer what
    /// the slot itself answers for the same path (retried for 2 s: the switch
    /// is immediate, a proxy's worker may lag a moment).
    public func proxyCheck(_ url: String, slot: Slot) -> Command {
        let components = URLComponents(string: url)
        let path = (components?.percentEncodedPath.isEmpty ?? true ? "/" : components!.percentEncodedPath)
            + (components?.percentEncodedQuery.map { "?" + $0 } ?? "")
        // The site may be routed by name (a provisioned nginx site): ask for it by its name.
        // An HTTPS site redirects there: followed, every hop to the URL's own address (the
        // content is compared here; the certificate is doctor's to check).
        let host: ShellString = config.proxyCheckHost.map { "-H \("Host: " + $0) " } ?? ""
        let hops: ShellString = components?.host.map { address in
            "-L --max-redirs 3 --insecure --connect-to \("::" + (address.contains(":") ? "[\(address)]" : address) + ":") " } ?? ""
        return Command(shell: """
            want=$(curl -fsS --max-time 5 --unix-socket \(socket(slot)) \("http://localhost" + path)) || \
            { printf 'the new slot does not answer %s itself\\n' \(path) >&2; exit 1; }; \
            for i in $(seq 10); do got=$(curl -fsS --max-time 5 \(hops)\(host)\(url) 2>&1) && [ "$got" = "$want" ] && exit 0; sleep 0.2; done; \
            printf 'through the proxy %s answers "%.60s", the new release answers "%.60s"\\n' \(url) "$got" "$want" >&2; exit 1
            """).described("check through the proxy: \(url) must answer what slot \(slot.rawValue) answers")
    }

    public func removeReleases(_ names: [String]) -> Command {
        Command(words: ["rm", "-rf", "--"] + names.map(layout.release))
            .described("delete \(names.count) old release\(names.count == 1 ? "" : "s"): \(names.joined(separator: ", "))")
    }
}
