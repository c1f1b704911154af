import Foundation
import SwiftFab

/// The steps that set a server up for one app, built from its config alone
/// (pure: the same config always gives the same commands).
public struct ProvisionPlan: Sendable {
    public var config: ServerConfig
    var layout: AppLayout { config.layout }
    var owner: String { config.deployUser }

    public init(config: ServerConfig) { self.config = config }

    /// Every step, in order. `systemd`: whether the host runs systemd (for `.automatic` boot).
    /// `stagedEnvFile`: a local copy of the env file as the host should hold it, and where it is staged on the host.
    public func steps(systemd: Bool, stagedEnvFile: (local: String, remote: String)? = nil) -> [ProvisionStep] {
        var steps = [deployUser()]
        if let packages = packages(systemd: systemd) { steps.append(packages) }
        if let packages = tlsPackages() { steps.append(packages) }
        if let group = dockerGroup() { steps.append(group) }
        if let upgrades = unattendedUpgrades() { steps.append(upgrades) }
        steps += databaseSteps()
        steps.append(directories())
        if let stagedEnvFile { steps.append(envFile(staged: stagedEnvFile.local, remote: stagedEnvFile.remote)) }
        if let proxy = proxySite() { steps.append(proxy) }
        steps += certificateSteps()
        if let boot = bootService(systemd: systemd) { steps.append(boot) }
        return steps.map { step in
            var step = step
            step.check = config.system(step.check)
            step.apply = config.system(step.apply)
            step.cleanup = step.cleanup.map(config.system)
            return step
        }
    }

    /// The deploy user runs `docker` (container slots, the boot script's
    /// compose projects, the database's service): it needs the `docker`
    /// group (after the packages, which create it).
    public func dockerGroup() -> ProvisionStep? {
        guard owner != "root", config.runsDocker else { return nil }
        return ProvisionStep("docker group for \(owner)", check: Command(shell: """
            id -nG \(owner) 2>/dev/null | tr ' ' '\\n' | grep -qx docker || { printf '%s is not in the docker group\\n' \(owner); exit 1; }
            """), apply: Command(shell: """
            getent group docker >/dev/null || { echo 'there is no docker group: install docker first (packages: docker.io)' >&2; exit 1; }; \
            usermod -aG docker \(owner)
            """))
    }

    /// The deploy user, its authorized keys and its sudoers entry (validated with `visudo -c` before it is installed).
    /// Keys in a folder only root can change are written by root (aside, then
    /// renamed); keys in the user's home are written as the user (`RootSafety`).
    public func deployUser() -> ProvisionStep {
        let user = owner, keys = config.authorizedKeys, file = config.sudoersFile, rule = config.sudoersLine
        let keysFile: ShellString = config.authorizedKeysFile.map { "keys=\($0)" } ?? "keys=\"$(getent passwd \(user) | cut -d: -f6)/.ssh/authorized_keys\""
        let wantKeys = keys.isEmpty ? "" : "yes"
        // The log readers' group (where the system has it): `logs proxy` and `logs db` need no sudo.
        let logGroup = user == "root" ? nil : config.logGroup
        let logGroupCheck: ShellString = logGroup.map { """
            ! getent group \($0) >/dev/null || id -nG \(user) | tr ' ' '\\n' | grep -qx \($0) || { printf '%s is not in group %s (it reads the logs)\\n' \(user) \($0); exit 1; }
            """ } ?? "true"
        let logGroupApply: ShellString = logGroup.map { "if getent group \($0) >/dev/null; then usermod -aG \($0) \(user); fi" } ?? "true"
        let check: ShellString = """
            \(RootSafety.functions); \
            id -u \(user) >/dev/null 2>&1 || { printf 'no user %s\\n' \(user); exit 1; }; \(keysFile); \
            if [ -n \(wantKeys) ]; then [ ! -L "$keys" ] || { printf '%s is a symbolic link\\n' "$keys"; exit 1; }; \
            for key in \(keys); do by_trust "$(dirname "$keys")" \(user) grep -qxF "$key" "$keys" 2>/dev/null || { echo "a key is missing from $keys"; exit 1; }; done; \
            [ "$(stat -c '%U %a' "$keys")" = \(user + " 600") ] || { printf '%s is not %s 600\\n' "$keys" \(user); exit 1; }; fi; \
            printf '%s\\n' \(rule) | cmp -s - \(file) || { printf 'sudoers entry %s differs\\n' \(file); exit 1; }; \
            \(logGroupCheck)
            """
        let apply: ShellString = """
            set -e; \(RootSafety.functions); \
            id -u \(user) >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --password '*' \(user); \
            group=$(id -gn \(user)); \(keysFile); \
            if [ -n \(wantKeys) ]; then no_link "$keys" 'authorized_keys file'; keysdir=$(dirname "$keys"); \
            if trusted "$keysdir"; then mkdir -p "$keysdir"; tmp=$(mktemp "$keysdir/.swiftfab.XXXXXX"); \
            { cat "$keys" 2>/dev/null || true; for key in \(keys); do grep -qxF "$key" "$keys" 2>/dev/null || printf '%s\\n' "$key"; done; } > "$tmp"; \
            chown \(user):"$group" "$tmp"; chmod 600 "$tmp"; mv -f "$tmp" "$keys"; \
            else as_user \(user) sh -c 'umask 077; k=$1; shift; mkdir -p "$(dirname "$k")"; touch "$k"; \
            for key; do grep -qxF "$key" "$k" || printf "%s\\n" "$key" >> "$k"; done; chmod 600 "$k"' sh "$keys" \(keys); fi; fi; \
            \(RootSafety.requireTrusted(config.sudoersDir)); \
            mkdir -p \(config.sudoersDir); tmp=$(mktemp \(config.sudoersDir + "/.swiftfab.XXXXXX")); \
            printf '%s\\n' \(rule) > "$tmp"; chmod 440 "$tmp"; \
            if ! visudo -c -q -f "$tmp" >&2; then rm -f "$tmp"; echo "visudo -c rejects the sudoers rule: nothing installed" >&2; exit 1; fi; \
            mv -f "$tmp" \(file); \(logGroupApply)
            """
        return ProvisionStep("deploy user \(user) (keys, sudoers)", check: Command(shell: check), apply: Command(shell: apply))
    }

    /// The apt packages the config needs (or `packages:`), non-interactively, waiting for the apt lock.
    public func packages(systemd: Bool) -> ProvisionStep? {
        let needed = config.neededPackages(systemd: systemd)
        guard !needed.isEmpty else { return nil }
        let name = config.packages != nil ? "packages " + needed.map(\.name).joined(separator: " ")
            : "packages: " + needed.map { "\($0.name) for \($0.why)" }.joined(separator: ", ")
        return aptStep(name, needed.map(\.name))
    }

    func aptStep(_ name: String, _ packages: [String], andThen check: ShellString = "true", _ apply: ShellString = "true") -> ProvisionStep {
        let missing: ShellString = """
            missing=""; for p in \(packages); do dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"; done
            """
        let wait = "-o DPkg::Lock::Timeout=\(config.aptLockWait)"
        return ProvisionStep(name, check: Command(shell: """
            \(missing); if [ -n "$missing" ]; then echo "to install:$missing"; exit 1; fi; \(check)
            """), apply: Command(shell: """
            \(missing); export DEBIAN_FRONTEND=noninteractive; \
            if [ -n "$missing" ]; then apt-get \(raw: wait) -y -q --no-install-recommends install $missing || \
            { apt-get \(raw: wait) -q update && apt-get \(raw: wait) -y -q --no-install-recommends install $missing; } || exit 1; fi; \(apply)
            """))
    }

    public static let autoUpgradesFile = "/etc/apt/apt.conf.d/20auto-upgrades"
    static let autoUpgrades = "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n"

    /// Security upgrades applied daily by `unattended-upgrades`.
    public func unattendedUpgrades() -> ProvisionStep? {
        guard config.unattendedUpgrades else { return nil }
        let file = Self.autoUpgradesFile
        return aptStep("unattended security upgrades", ["unattended-upgrades"],
                       andThen: "\(FileText.matches(file, Self.autoUpgrades)) || { echo \"\(raw: file) differs\"; exit 1; }",
                       FileText.write(file, Self.autoUpgrades, mode: "644"))
    }

    /// `root`, `releases/`, `shared/`, `backups/`, `run/`, owned by the deploy user:
    /// made by root only where only root can change the folder above, by the
    /// user inside the user's own tree; a link in their place is refused.
    public func directories() -> ProvisionStep {
        // run/ holds the slots' sockets: with a proxy, nginx's group may enter it and
        // the sockets made there are that group's (setgid); the slots make them 0770.
        let run = config.proxy.map { (layout.run, "2750", $0.group) } ?? (layout.run, "755", "")
        let specs = [(layout.root, "755", ""), (layout.releases, "755", ""), (layout.shared, "750", ""), (config.backupDir, "750", ""), run]
            .map { "\($0.0):\($0.1):\($0.2)" }
        // Each spec as DIR:MODE:GROUP, and whether the folder already is as wanted.
        let each: ShellString = """
            group=$(id -gn \(owner) 2>/dev/null || true); for spec in \(specs); do dir=${spec%%:*}; rest=${spec#*:}; mode=${rest%%:*}; g=${rest#*:}; \
            if [ ! -L "$dir" ] && [ "$(stat -c '%U %G %a' "$dir" 2>/dev/null)" = \(owner)" ${g:-$group} $mode" ]; then continue; fi
            """
        // Only folders that differ are given again: re-giving run/ would take it
        // from nginx's group for a moment, and a live site's requests with it.
        return ProvisionStep("directories under \(layout.root)", check: Command(shell: """
            \(each); [ ! -L "$dir" ] || { printf '%s is a symbolic link\\n' "$dir"; exit 1; }; \
            printf '%s is not %s:%s %s\\n' "$dir" \(owner) "${g:-$group}" "$mode"; exit 1; done
            """), apply: Command(shell: """
            set -e; \(RootSafety.functions); \(each); owner_dir "$dir" \(owner) "$mode" "$g"; done
            """))
    }

    /// The env file, mode 0600: compared on the host with a copy staged at
    /// `remote` (private, in a temporary directory), so its values never appear
    /// in a command. It lives in the deploy user's folder, so that user writes
    /// it (aside, then renamed) from the staged copy, which root opens.
    public func envFile(staged local: String, remote staged: String) -> ProvisionStep {
        let target = layout.sharedEnvFile
        return ProvisionStep("env file \(target) (0600)", check: Command(shell: """
            \(RootSafety.functions); [ ! -L \(target) ] || { printf '%s is a symbolic link\\n' \(target); exit 1; }; \
            as_user \(owner) cmp -s - \(target) < \(staged) 2>/dev/null || { printf '%s differs from the local env file\\n' \(target); exit 1; }; \
            [ "$(stat -c '%U %a' \(target))" = \(owner + " 600") ] || { printf '%s is not %s 600\\n' \(target) \(owner); exit 1; }
            """), apply: Command(shell: """
            \(RootSafety.functions); no_link \(target) 'env file'; \
            as_user \(owner) sh -c 'umask 077; t=$(mktemp "$1.XXXXXX") && cat > "$t" && mv -f "$t" "$1"' sh \(target) < \(staged)
            """), stage: .init(local: local, remote: staged, mode: 0o600),
            cleanup: Command("rm", "-f", staged).described("remove the staged copy of the env file"))
    }

    /// The app's nginx site: its host name routed to the live slot's socket.
    /// nginx tests the new site before reloading; when it fails the previous
    /// site is put back and nginx is left as it was. With HTTPS, the site
    /// serves it once the certificate is installed (`wantedSite`).
    public func proxySite(_ name: String = "proxy site") -> ProvisionStep? {
        guard let proxy = config.proxy else { return nil }
        let file = siteFile(proxy)
        return ProvisionStep("\(name) \(file) for \(proxy.hostname)", check: Command(shell: """
            \(wantedSite(proxy)); printf '%s' "$site" | cmp -s - \(file) 2>/dev/null || { printf '%s differs\\n' \(file); exit 1; }
            """), apply: Command(shell: """
            \(RootSafety.functions); \(RootSafety.requireTrusted(proxy.sitesDir)); \(wantedSite(proxy)); \
            mkdir -p \(proxy.sitesDir) && previous=$(mktemp) && had=no; \
            if [ -f \(file) ]; then cp -p \(file) "$previous"; had=yes; fi; \
            printf '%s' "$site" > \(file); \
            if out=$( { \(raw: proxy.testCommand); } 2>&1) && out=$( { \(raw: proxy.reloadCommand); } 2>&1); then rm -f "$previous"; \
            else if [ $had = yes ]; then cat "$previous" > \(file); else rm -f \(file); fi; rm -f "$previous"; \
            printf 'nginx rejects the new site or does not reload (the previous site is back, so a later run tries again):\\n%s\\n' "$out" >&2; exit 1; fi
            """))
    }

    public func siteFile(_ proxy: NginxSite) -> String { proxy.sitesDir + "/" + layout.app + ".conf" }

    /// The site over HTTP (with HTTPS configured: until its certificate is
    /// installed, and answering the CA's challenges meanwhile).
    public func siteText(_ proxy: NginxSite) -> String {
        let extra = proxy.extraDirectives.map { "    \($0)\n" }.joined()
        return """
            # Managed by swiftfab provision: \(layout.app) (\(proxy.hostname) -> the live slot)
            upstream \(upstreamName) { server unix:\(SlotCommands(config: config.app).liveSocket); }
            server {
                listen \(proxy.listen);
                server_name \(proxy.hostname);
            \(acmeChallengeLocation(proxy))\(extra)\(appLocation)}

            """
    }

    var upstreamName: String { "swiftfab_" + String(layout.app.map { $0.isLetter || $0.isNumber ? $0 : "_" }) }

    /// Every request to the live slot, saying how it came (`X-Forwarded-Proto`: http or https).
    var appLocation: String {
        """
                location / {
                    proxy_pass http://\(upstreamName);
                    proxy_set_header Host $host;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header X-Forwarded-Proto $scheme;
                }

            """
    }

    // MARK: boot

    public var bootName: String { "swiftfab-" + layout.app }
    public var bootScript: String { config.bootScriptDir + "/" + layout.app + "-boot.sh" }

    /// What brings the app back after a reboot: its compose projects, then the
    /// slots as they were: the live slot always; the
    /// standby too, unless swiftfab had stopped it (its `.stopped` marker).
    /// Containers are started by name; the app's supervisord starts the
    /// programs whose autostart swiftfab left on, and the live one is started
    /// whatever its autostart says.
    public func bootScriptText() -> String {
        let commands = SlotCommands(config: config.app)
        // What the app needs comes first; one that fails is reported (exit 1), the slots start anyway.
        var body = "rc=0\n"
        for file in config.composeFiles {
            body += "\(config.composeCommand) -f \(Shell.quote(file)) up -d >/dev/null || { echo \(Shell.quote("the compose project \(file) did not start")) >&2; rc=1; }\n"
        }
        body += "live=$(\(commands.liveSlot().script.rendered()))\n"
        body += commands.runtime.bootLines()
        return "#!/bin/sh\n# Managed by swiftfab provision: brings \(layout.app)'s slots back after a reboot, as they were.\n" + body
    }

    public func supervisorProgram() -> String {
        """
        ; Managed by swiftfab provision: runs once at start, brings \(layout.app)'s slots back after a reboot.
        [program:\(bootName)]
        command=/bin/sh \(bootScript)
        user=\(owner)
        autostart=true
        autorestart=false
        startsecs=0
        exitcodes=0
        redirect_stderr=true

        """
    }

    public func systemdUnit() -> String {
        """
        # Managed by swiftfab provision.
        [Unit]
        Description=Bring \(layout.app)'s slots back after a reboot
        Wants=network-online.target
        After=network-online.target docker.service

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        User=\(owner)
        ExecStart=/bin/sh \(bootScript)

        [Install]
        WantedBy=multi-user.target

        """
    }

    public func bootService(systemd: Bool) -> ProvisionStep? {
        let script = bootScript, scriptText = bootScriptText()
        let scriptCheck: ShellString = "\(FileText.matches(script, scriptText)) || { printf '%s differs\\n' \(script); exit 1; }"
        let writeScript = FileText.write(script, scriptText, mode: "755")
        switch config.boot {
        case .none: return nil
        case .automatic:
            var resolved = config
            resolved.boot = systemd ? .systemd() : .supervisor()
            return ProvisionPlan(config: resolved).bootService(systemd: systemd)
        case .supervisor(let confDir, let control):
            let conf = confDir + "/" + bootName + ".conf", text = supervisorProgram()
            return ProvisionStep("supervisor program \(bootName) (slots back after a reboot)", check: Command(shell: """
                \(scriptCheck); \(FileText.matches(conf, text)) || { printf '%s differs\\n' \(conf); exit 1; }; \
                \(raw: control) avail 2>/dev/null | grep -q "^\(raw: bootName) " || { echo "supervisor has not loaded \(raw: bootName)"; exit 1; }
                """), apply: Command(shell: """
                \(writeScript) && \(FileText.write(conf, text, mode: "644")) && \
                \(raw: control) reread >/dev/null && \(raw: control) update \(bootName) >/dev/null
                """))
        case .systemd(let unitDir):
            let unit = unitDir + "/" + bootName + ".service", text = systemdUnit()
            return ProvisionStep("systemd unit \(bootName).service (slots back after a reboot)", check: Command(shell: """
                \(scriptCheck); \(FileText.matches(unit, text)) || { printf '%s differs\\n' \(unit); exit 1; }; \
                systemctl is-enabled -q \(bootName + ".service") || { echo "\(raw: bootName).service is not enabled"; exit 1; }
                """), apply: Command(shell: """
                \(writeScript) && \(FileText.write(unit, text, mode: "644")) && \
                systemctl daemon-reload && systemctl enable \(bootName + ".service")
                """))
        }
    }
}

/// Whole-file content checks and writes, as shell.
enum FileText {
    static func matches(_ path: String, _ content: String) -> ShellString {
        "printf '%s' \(content) | cmp -s - \(path) 2>/dev/null"
    }

    /// Written aside (a new file of its own), then renamed: a reader never sees
    /// half a file, and a link planted at the target or beside it is never
    /// followed. Only into a folder that only root can change (`RootSafety`).
    static func write(_ path: String, _ content: String, mode: String) -> ShellString {
        let directory = (path as NSString).deletingLastPathComponent
        return """
            { \(RootSafety.functions); \(RootSafety.requireTrusted(directory)); } && mkdir -p \(directory) && \
            tmp=$(mktemp \(directory + "/.swiftfab.XXXXXX")) && printf '%s' \(content) > "$tmp" && chmod \(mode) "$tmp" && mv -f "$tmp" \(path)
            """
    }

    /// KEY=VALUE lines with every value quoted, as the blue/green deploy writes `shared/.env`.
    static func envFile(_ values: [String: String]) -> String {
        values.keys.sorted().map { "\($0)=\(Shell.quote(values[$0]!))" }.joined(separator: "\n") + "\n"
    }
}
