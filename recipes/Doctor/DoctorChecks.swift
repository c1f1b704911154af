import Foundation
import SwiftFab

/// The checks doctor runs on each host, built from the config alone. Each
/// failure's hint is the command to run (with this app's real paths).
public struct DoctorChecks: Sendable {
    public var config: ServerConfig
    var layout: AppLayout { config.layout }
    var slots: SlotCommands { SlotCommands(config: config.app) }

    public init(config: ServerConfig) { self.config = config }

    /// Every check that applies to this config, in the table's order.
    public func all() -> [DoctorCheck] {
        var checks = [sudo()]
        checks += config.volumes.map(disk)
        checks += [memory(), load()]
        if let engine = slots.runtime.serviceCheck() { checks.append(engine) }
        if config.boot != .none { checks.append(bootService()) }
        checks.append(slotProcesses())
        if let proxy = config.proxy { checks += [proxyConfig(proxy), proxyRunning(proxy)] }
        if let proxy = config.proxy, let tls = proxy.tls { checks.append(certificate(proxy, tls)) }
        checks += Slot.allCases.map(slotHealth)
        if let proxy = config.proxy { checks.append(liveThroughProxy(proxy)) }
        if let postgres = config.postgres { checks.append(self.postgres(postgres)) }
        if let database = config.database { checks.append(databaseLogin(database)) }
        if config.backups != nil { checks.append(backups()) }
        checks += [deployLock(), liveRelease()]
        return checks
    }

    // MARK: the host

    public func sudo() -> DoctorCheck {
        let user = config.deployUser
        return DoctorCheck("sudo", .raw("if [ \"$(id -u)\" = 0 ]; then echo 'root (no sudo needed)'; else sudo -n true 2>&1 && echo 'works without a prompt'; fi")) { out in
            out.succeeded ? Finding(.ok, out.text)
                : Finding(.fail, "sudo asks for a password (\(out.lastErrorLine))",
                          hint: "echo \(Shell.quote("\(user) ALL=(ALL) NOPASSWD:ALL")) | sudo tee \(Shell.quote(config.sudoersFile)) && sudo visudo -c  (or: swiftfab provision)")
        }
    }

    public func disk(_ volume: String) -> DoctorCheck {
        let (warn, fail) = (config.diskWarnPercent, config.diskFailPercent)
        return DoctorCheck("disk \(volume)", Command(shell: "df -Pk \(volume) | tail -n 1")) { out in
            let fields = out.text.split(separator: " ", omittingEmptySubsequences: true)
            guard out.succeeded, fields.count >= 6, let used = Int(fields[4].dropLast()), let free = Int64(fields[3]) else {
                return Finding(.warn, "cannot read its free space (\(out.lastErrorLine))", hint: "df -h \(Shell.quote(volume))")
            }
            let saw = "\(used)% used, \(Format.bytes(free * 1024)) free (\(fields[0]) on \(fields[5]))"
            let hint = "see what fills it: du -xh --max-depth=2 \(Shell.quote(volume)) | sort -h | tail -20"
            return used >= fail ? Finding(.fail, saw, hint: hint) : used >= warn ? Finding(.warn, saw, hint: hint) : Finding(.ok, saw)
        }
    }

    public func memory() -> DoctorCheck {
        DoctorCheck("memory", .raw("awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {print t, a}' /proc/meminfo")) { out in
            let numbers = out.text.split(separator: " ").compactMap { Double($0) }
            guard numbers.count == 2, numbers[0] > 0 else { return Finding(.warn, "cannot read /proc/meminfo", hint: "free -m") }
            let percent = Int(numbers[1] / numbers[0] * 100)
            let saw = "\(percent)% available (\(Format.bytes(Int64(numbers[1]) * 1024)) of \(Format.bytes(Int64(numbers[0]) * 1024)))"
            let hint = "see what uses it: ps aux --sort=-rss | head"
            return percent < 5 ? Finding(.fail, saw, hint: hint) : percent < 10 ? Finding(.warn, saw, hint: hint) : Finding(.ok, saw)
        }
    }

    public func load() -> DoctorCheck {
        let (warn, fail) = (config.loadWarnPerCore, config.loadFailPerCore)
        return DoctorCheck("load", .raw("echo $(cut -d' ' -f1-3 /proc/loadavg) $(nproc)")) { out in
            let numbers = out.text.split(separator: " ").compactMap { Double($0) }
            guard numbers.count == 4, numbers[3] > 0 else { return Finding(.warn, "cannot read /proc/loadavg", hint: "uptime") }
            let perCore = numbers[1] / numbers[3]
            let saw = "\(out.text.split(separator: " ").prefix(3).joined(separator: " ")) on \(Int(numbers[3])) cores"
            let hint = "see what runs: top -b -n 1 | head -20"
            return perCore >= fail ? Finding(.fail, saw, hint: hint) : perCore >= warn ? Finding(.warn, saw, hint: hint) : Finding(.ok, saw)
        }
    }

    /// The system's supervisor (or systemd unit) that brings the slots back after a reboot.
    public func bootService() -> DoctorCheck {
        let name = ProvisionPlan(config: config).bootName
        var control = "supervisorctl"
        if case .supervisor(_, let given) = config.boot { control = given }
        let supervisorCheck = "out=$(\(control) avail 2>&1) || { echo \"supervisor: $out\" | tail -n 1; exit 2; }; "
            + "echo \"$out\" | grep -q \(Shell.quote("^" + name + " ")) || { echo \"no program \(name)\"; exit 1; }; echo supervisor"
        let systemdCheck = "systemctl is-enabled -q \(Shell.quote(name + ".service")) || { echo \"\(name).service is not enabled\"; exit 1; }; echo systemd"
        let script: String
        switch config.boot {
        case .automatic: script = "if [ -d /run/systemd/system ]; then \(systemdCheck); else \(supervisorCheck); fi"
        case .systemd: script = systemdCheck
        default: script = supervisorCheck
        }
        return DoctorCheck("boot service", config.system(.raw(script))) { out in
            if out.succeeded { return Finding(.ok, "\(out.text): \(name) brings the slots back after a reboot") }
            if out.status == 2 {
                return Finding(.fail, "supervisor is not running (\(out.text))", hint: "sudo service supervisor start")
            }
            return Finding(.warn, out.text + ": the slots would not come back after a reboot", hint: "swiftfab provision")
        }
    }

    // MARK: the app

    /// The app's supervisord and its slot programs (or the slots' containers).
    public func slotProcesses() -> DoctorCheck { slots.runtime.doctorCheck(live: slots.liveSlot().script) }

    public func proxyConfig(_ proxy: NginxSite) -> DoctorCheck {
        DoctorCheck("proxy config", config.system(.raw("{ \(proxy.testCommand); } 2>&1"))) { out in
            out.succeeded ? Finding(.ok, "\(proxy.testCommand): valid")
                : Finding(.fail, "invalid: " + (out.text.split(separator: "\n").first { $0.contains("emerg") || $0.contains("error") }.map(String.init) ?? out.lastErrorLine),
                          hint: "fix the file it names, then: \(proxy.testCommand) && \(proxy.reloadCommand)")
        }
    }

    /// nginx runs as root while doctor runs as the deploy user: its process is
    /// looked for, never signalled (`kill -0` on another user's process fails
    /// with EPERM, which once read as "not running" and hinted a second nginx).
    public func proxyRunning(_ proxy: NginxSite) -> DoctorCheck {
        DoctorCheck("proxy running", Command(shell: """
            pid=$(cat \(proxy.pidFile) 2>/dev/null) && [ -n "$pid" ] || exit 1; \
            if [ -d "/proc/$pid" ]; then echo "pid $pid"; exit 0; fi; \
            err=$(kill -0 "$pid" 2>&1) && { echo "pid $pid"; exit 0; }; case $err in *ermitted*) echo "pid $pid";; *) exit 1;; esac
            """)) { out in
            out.succeeded ? Finding(.ok, "nginx runs (\(out.text))")
                : Finding(.fail, "nginx is not running (no live process in \(proxy.pidFile))", hint: asAdmin(proxy.startCommand))
        }
    }

    /// A system command as the deploy user would run it by hand.
    func asAdmin(_ command: String) -> String { config.deployUser == "root" ? command : "sudo " + command }

    /// A slot's own health endpoint, on its socket.
    public func slotHealth(_ slot: Slot) -> DoctorCheck {
        let expectWarm = config.app.stopOldSlotAfter == nil
        return DoctorCheck("health \(slot.rawValue)", Command(shell: """
            echo "live=$(\(slots.liveSlot().script))"; release=$(\(slots.slotRelease(slot).script)); \
            echo "release=$release"; [ -n "$release" ] || exit 0; \
            [ -S \(slots.socket(slot)) ] || { printf 'nothing listens on %s\\n' \(slots.socket(slot)) >&2; exit 1; }; \
            \(slots.healthCheck(slot, timeout: 2).script)
            """)) { out in
            let fields = out.fields
            let isLive = fields["live"] == slot.rawValue, release = fields["release"] ?? ""
            let role = isLive ? "live" : "standby"
            if release.isEmpty { return isLive ? Finding(.fail, "live but never started", hint: "swiftfab deploy") : Finding(.ok, "unused") }
            if out.succeeded { return Finding(.ok, "\(role), healthy (\(release))") }
            let saw = "\(role), unhealthy at \(config.app.healthPath): \(out.lastErrorLine)"
            if isLive {
                return Finding(.fail, saw, hint: "see why: swiftfab logs slot; restart it: \(slots.slotControl("restart", slot)); or: swiftfab rollback")
            }
            return expectWarm ? Finding(.warn, saw + " (rollback would start it cold)", hint: "\(slots.slotControl("start", slot))")
                : Finding(.ok, "standby, stopped (\(release))")
        }
    }

    /// The proxy serves what the live slot serves, for the live release.
    public func liveThroughProxy(_ proxy: NginxSite) -> DoctorCheck {
        let path = config.revisionPath
        let request = proxy.localRequest(path)
        return DoctorCheck("live via proxy", Command(shell: """
            live=$(\(slots.liveSlot().script)); release=$(cat \(slots.slotReleaseFile(slotIn: "live")) 2>/dev/null); \
            echo "release=$release"; echo "revision=$(cat \(slots.revisionFile(releaseIn: "release")) 2>/dev/null | cut -c1-7)"; \
            echo "proxy=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \(request.arguments))"; \
            echo "proxybody=$(curl -s --max-time 5 \(request.arguments) | head -c 300 | tr '\\n' ' ')"; \
            echo "slotbody=$(curl -s --max-time 5 -H \(Word("Host: \(proxy.hostname)")) --unix-socket \(slots.liveSocket) \(Word("http://localhost\(path)")) | head -c 300 | tr '\\n' ' ')"
            """)) { out in
            let fields = out.fields
            let release = fields["release"] ?? "", revision = fields["revision"] ?? ""
            let code = fields["proxy"] ?? "000"
            let target = request.shown
            guard !release.isEmpty else { return Finding(.fail, "nothing is live", hint: "swiftfab deploy") }
            if code == "502" || code == "504" {
                return Finding(.fail, "\(target) answers HTTP \(code): the proxy cannot reach the live slot",
                               hint: "see the slot rows above and: swiftfab logs slot")
            }
            guard code == "200" else {
                return Finding(.fail, code == "000" ? "nothing answers at \(target)" : "\(target) answers HTTP \(code)",
                               hint: "see why: swiftfab logs proxy; the site's upstream must be unix:\(slots.liveSocket) (\(proxy.testCommand))")
            }
            guard fields["proxybody"] == fields["slotbody"] else {
                return Finding(.fail, "\(target) serves something else than the live slot (release \(release))",
                               hint: "another site may answer for \(proxy.hostname): nginx -T | grep -n server_name  (then: swiftfab provision)")
            }
            return Finding(.ok, "serves the live release \(release) (revision \(revision))")
        }
    }

    public func postgres(_ probe: PostgresProbe) -> DoctorCheck {
        let words = ["pg_isready", "-h", probe.host, "-p", String(probe.port)] + (probe.user.map { ["-U", $0] } ?? [])
        return DoctorCheck("postgres", Command(words: words)) { out in
            switch out.status {
            case 0: return Finding(.ok, out.text)
            case 1: return Finding(.warn, "rejecting connections (starting up?): \(out.text)", hint: "wait, then: \(Shell.join(words))")
            case 127: return Finding(.fail, "pg_isready is not installed", hint: "sudo apt-get install postgresql-client")
            default: return Finding(.fail, out.text.isEmpty ? "no answer" : out.text,
                                    hint: "start it: sudo service postgresql start  (then: \(Shell.join(words)))")
            }
        }
    }

    /// The newest `*.dump`: its age from the time in its name, else its mtime (as `BackupCatalog` reads them).
    public func backups() -> DoctorCheck {
        let dir = config.backupDir, maxHours = config.backupMaxAgeHours
        return DoctorCheck("backups", Command(shell: """
            [ -d \(dir) ] || { echo "missing"; exit 1; }; echo "now=$(date +%s)"; \
            find \(dir) -maxdepth 1 -name '*.dump' -printf 'dump=%T@ %f\\n'
            """)) { out in
            guard out.succeeded else { return Finding(.warn, "\(dir) does not exist", hint: "swiftfab provision") }
            let now = Double(out.fields["now"] ?? "") ?? Date().timeIntervalSince1970
            let dumps: [(Double, String)] = out.stdout.split(separator: "\n").compactMap { line in
                guard line.hasPrefix("dump=") else { return nil }
                let parts = line.dropFirst(5).split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2, let mtime = Double(parts[0]) else { return nil }
                return (BackupCatalog.taken(parts[1], modified: Date(timeIntervalSince1970: mtime)).timeIntervalSince1970, parts[1])
            }
            guard let newest = dumps.max(by: { $0.0 < $1.0 }) else {
                return Finding(.warn, "no backups in \(dir)", hint: "take one now: swiftfab backup")
            }
            let hours = (now - newest.0) / 3600
            let saw = "newest \(newest.1), \(Self.age(hours)) old"
            return hours > maxHours ? Finding(.warn, saw + " (more than \(Int(maxHours)) h)", hint: "take one now: swiftfab backup; then check the schedule that should take them")
                : Finding(.ok, saw)
        }
    }

    static func age(_ hours: Double) -> String {
        hours < 1 ? "\(Int(hours * 60)) min" : hours < 48 ? String(format: "%.1f h", hours) : String(format: "%.1f days", hours / 24)
    }

    /// Who holds the lock; a holder whose SSH connection is gone (its 4th line
    /// names the sshd process) is stale: the next deploy clears it.
    public func deployLock() -> DoctorCheck {
        DoctorCheck("deploy lock", DeployLock(layout: layout).inspectStaleness()) { out in
            guard let holder = DeployLock.parse(out.stdout) else { return Finding(.ok, "free") }
            let saw = "held by \(holder.who) (revision \(holder.revision), since \(holder.since))"
            if out.fields["stale"] == "yes" {
                return Finding(.warn, saw + "; its connection is gone, the next deploy clears it", hint: "or now: swiftfab unlock")
            }
            return Finding(.warn, saw, hint: "if no deploy is running any more: swiftfab unlock")
        }
    }

    /// The live slot's release exists, with its revision.
    public func liveRelease() -> DoctorCheck {
        DoctorCheck("live release", Command(shell: """
            live=$(\(slots.liveSlot().script)); echo "live=$live"; [ -n "$live" ] || exit 1; \
            release=$(cat \(slots.slotReleaseFile(slotIn: "live")) 2>/dev/null); echo "release=$release"; \
            echo "revision=$(cut -c1-7 \(slots.revisionFile(releaseIn: "release")) 2>/dev/null)"; \
            [ -n "$release" ] && [ -f \(slots.revisionFile(releaseIn: "release")) ]
            """)) { out in
            let fields = out.fields
            guard let live = fields["live"], !live.isEmpty else {
                return Finding(.fail, "nothing is live (no \(slots.liveSocket))", hint: "swiftfab deploy")
            }
            let release = fields["release"] ?? ""
            return out.succeeded ? Finding(.ok, "slot \(live) runs \(release) (revision \(fields["revision"] ?? "?"))")
                : Finding(.fail, "slot \(live) runs \(release.isEmpty ? "nothing" : release), which is not in \(layout.releases)",
                          hint: "swiftfab deploy  (or: swiftfab rollback)")
        }
    }
}
