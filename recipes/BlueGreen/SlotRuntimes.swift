import SwiftFab

/// How a slot runs on the server, one type per runtime: what differs between
/// supervisor programs and containers lives here, and nowhere else tells the
/// two apart. Every command is a `ShellString`, quoted by construction.
/// `SlotCommands.runtime` picks the conformer for the configured runtime.
protocol SlotRuntime: Sendable {
    var slots: SlotCommands { get }

    /// What starting a slot needs first (the app's supervisord, or the folders),
    /// and what its failure means when it stops the deploy (nil: it does not).
    func prepare() -> (command: Command, failure: String?)
    /// Points `slot` at `release` and starts it (the slot's release file and socket are the caller's shell's).
    func start(_ slot: Slot, release: String) -> Command
    /// The runtime's own command for a slot named in the shell variable `variable`, or by name.
    func control(_ verb: String, _ slot: ShellString) -> ShellString
    /// Stops the slot and keeps it stopped at boot (besides its `.stopped` marker).
    func stop(_ slot: Slot) -> ShellString
    /// What undoes `stop`'s boot setting before the slot starts again.
    func keepStartedAtBoot(_ slot: Slot) -> ShellString
    /// Exits 0 while the slot runs, starts or stops.
    func isActive(_ slot: Slot) -> ShellString
    /// Lists the slots' programs or containers.
    func processes() -> Command
    /// A slot's log: its last `lines` (and then following it). `slot` is the
    /// slot's name as a shell word: `blue`, or `"$live"` read on the host.
    func logTail(_ slot: ShellString, lines: Int, follow: Bool) -> ShellString
    /// Brings the live slot (named in `$live`) back at boot, and the standby unless swiftfab stopped it.
    func bootLines() -> String
    /// doctor's row for the slots.
    func doctorCheck(live: ShellString) -> DoctorCheck
    /// doctor's row for what runs the slots, when it is a service of its own (the engine).
    func serviceCheck() -> DoctorCheck?
    /// What the server must have installed for the slots: a Debian package, or
    /// an engine's command line (whose packages provision works out), with what for.
    var needs: (package: String?, engine: String?) { get }
}

extension SlotRuntime {
    func control(_ verb: String, _ slot: Slot) -> ShellString { control(verb, slots.name(slot)) }
}

/// The process runtime: each slot a program of the app's own supervisord.
struct ProcessSlots: SlotRuntime {
    let slots: SlotCommands
    var needs: (package: String?, engine: String?) { ("supervisor", nil) }
    func serviceCheck() -> DoctorCheck? { nil }

    func prepare() -> (command: Command, failure: String?) { (slots.ensureSupervisor(), "cannot start the app's supervisord") }

    func start(_ slot: Slot, release: String) -> Command {
        let layout = slots.layout, config = slots.config
        var command = config.command.replacingOccurrences(of: "{socket}", with: slots.socket(slot))
        if config.envFile != nil {
            // The shared env file's variables, then the app itself (exec: supervisor still signals the app).
            command = "/bin/sh -c " + Shell.quote(slots.sourceEnv(layout.release(release)) + "exec \(command)")
        }
        let section = """
            [program:\(slots.program(slot))]
            command=\(command)
            directory=\(layout.release(release))
            autostart=true
            autorestart=true
            startsecs=0
            stopasgroup=true
            killasgroup=true
            stopwaitsecs=15
            umask=007
            stdout_logfile=\(slots.log(slot))
            redirect_stderr=true
            environment=SWIFTFAB_SLOT="\(slot.rawValue)",SWIFTFAB_RELEASE="\(release)"

            """
        return Command(shell: """
            \(control("stop", slot)) >/dev/null 2>&1; rm -f \(slots.socket(slot)) \(slots.stoppedMarker(slot)); \
            printf '%s' \(section) > \(slots.programConf(slot)) && printf '%s\\n' \(release) > \(slots.slotReleaseFile(slot)) && \
            \(slots.supervisorctl) reread >/dev/null && \(control("update", slot)) >/dev/null && \
            \(control("start", slot)) >/dev/null 2>&1; \
            \(control("status", slot)) | grep -qE 'RUNNING|STARTING'
            """).described("start release \(release) in slot \(slot.rawValue): supervisor program \(slots.program(slot))")
    }

    func control(_ verb: String, _ slot: ShellString) -> ShellString { "\(slots.supervisorctl) \(raw: verb) \(slot)" }

    // supervisor waits `stopwaitsecs`; autostart off keeps it stopped when supervisord starts at boot.
    func stop(_ slot: Slot) -> ShellString {
        "\(control("stop", slot)) >/dev/null 2>&1; sed -i 's/^autostart=true$/autostart=false/' \(slots.programConf(slot)) 2>/dev/null; "
    }

    func keepStartedAtBoot(_ slot: Slot) -> ShellString {
        "sed -i 's/^autostart=false$/autostart=true/' \(slots.programConf(slot)) 2>/dev/null; "
    }

    func isActive(_ slot: Slot) -> ShellString { "\(control("status", slot)) 2>/dev/null | grep -qE 'RUNNING|STARTING|STOPPING'" }

    func processes() -> Command {
        // `status` exits 3 when any program is stopped: only a supervisord that does not answer `pid` is not running.
        Command(shell: "if \(slots.supervisorctl) pid >/dev/null 2>&1; then \(slots.supervisorctl) status 2>/dev/null || true; else echo 'supervisord: not running'; fi")
            .described("list the slots' programs")
    }

    func logTail(_ slot: ShellString, lines: Int, follow: Bool) -> ShellString {
        "tail -n \(lines)\(raw: follow ? " -F" : "") \(slots.log(word: slot))"
    }

    // A slot swiftfab stopped has autostart off; the live one starts even so (a reboot during a restore's write pause).
    func bootLines() -> String {
        slots.ensureSupervisor().script.rendered() + " || exit 1\n"
            + "[ -n \"$live\" ] || exit $rc\n"
            + "\(control("start", slots.name(slotIn: "live")).rendered()) >/dev/null 2>&1\n"
            + "exit $rc\n"
    }

    func doctorCheck(live: ShellString) -> DoctorCheck {
        DoctorCheck("slot processes", Command(shell: """
            echo "live=$(\(live))"; \(slots.supervisorctl) status 2>&1; echo "status=$?"
            """)) { out in
            let fields = out.fields
            let lines = out.stdout.split(separator: "\n").map(String.init)
            func state(_ slot: Slot) -> String? {
                lines.first { $0.hasPrefix(slots.program(slot) + " ") }?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
            }
            if lines.contains(where: { $0.contains("no such file") || $0.contains("refused connection") || $0.contains("SHUTDOWN_STATE") }) {
                return Finding(.fail, "the app's supervisord is not running",
                               hint: "start it: supervisord -c \(Shell.quote(slots.supervisorConf))  (at boot: swiftfab provision)")
            }
            let states = Slot.allCases.map { "\(slots.program($0)) \(state($0) ?? "absent")" }.joined(separator: ", ")
            guard let liveSlot = Slot(rawValue: fields["live"] ?? "") else { return Finding(.fail, "no live slot (\(states))", hint: "swiftfab deploy") }
            return state(liveSlot) == "RUNNING" ? Finding(.ok, states)
                : Finding(.fail, "the live slot's program \(slots.program(liveSlot)) is \(state(liveSlot) ?? "absent")",
                          hint: "\(control("start", liveSlot))  (its logs: swiftfab logs slot)")
        }
    }
}

/// The container runtime: each slot a container of the engine, run from the
/// release's dependency image.
struct ContainerSlots: SlotRuntime {
    let slots: SlotCommands
    let runtime: ContainerRuntime
    /// The engine's command line, as the user configured it (`docker`, `env DOCKER_HOST=... docker`).
    var engine: ShellString { .raw(runtime.engine) }
    var needs: (package: String?, engine: String?) { (nil, runtime.engine) }

    func serviceCheck() -> DoctorCheck? {
        DoctorCheck("container engine", Command(shell: "\(engine) info --format '{{.ServerVersion}}'")) { out in
            out.succeeded ? Finding(.ok, "\(runtime.engine) answers (server \(out.text))")
                : Finding(.fail, "\(runtime.engine) does not answer: \(out.lastErrorLine)", hint: "sudo service docker start  (then: \(runtime.engine) info)")
        }
    }

    func prepare() -> (command: Command, failure: String?) { (slots.prepareFolders(), nil) }

    /// Builds the image only when the Dockerfile and dependency files changed
    /// (their fingerprint is the tag), then runs the slot's container.
    func start(_ slot: Slot, release: String) -> Command {
        let layout = slots.layout, config = slots.config
        let dir = layout.release(release)
        // exec: the app is the container's PID 1 and gets the engine's SIGTERM (a shell there would
        // ignore it, and every stop would wait out the engine's 10 s time-out).
        var command = SlotCommands.execPrefix(config.command) + config.command.replacingOccurrences(of: "{socket}", with: slots.socket(slot))
        if config.envFile != nil { command = slots.sourceEnv("/app") + command }
        command = SlotCommands.socketUmask + command
        let image: ShellString
        var build: ShellString = ""
        if let given = runtime.image {
            image = .word(given)
        } else {
            build = """
                tag=\(layout.app):deps-$(cd \(dir) && \(slots.fingerprint(runtime)) | sha256sum | cut -c1-16) && \
                { \(engine) image exists "$tag" 2>/dev/null || \(engine) image inspect "$tag" >/dev/null 2>&1 || \
                  \(engine) build -q -t "$tag" -f \(dir + "/" + runtime.dockerfile) \(dir) >/dev/null; } && \
                echo "$tag" > \(layout.run + "/\(slot.rawValue).image") && 
                """
            image = "\"$tag\""
        }
        let container = slots.container(slot)
        return Command(shell: """
            \(build)\(engine) rm -f \(container) >/dev/null 2>&1; rm -f \(slots.socket(slot)) \(slots.stoppedMarker(slot)); \
            printf '%s\\n' \(release) > \(slots.slotReleaseFile(slot)) && \
            \(engine) run -d --name \(container) --network=host -v \(dir + ":/app:ro") -v \(layout.run + ":" + layout.run) \
            -v \(layout.shared + ":" + layout.shared) -w /app -e SWIFTFAB_SLOT=\(slot.rawValue) -e SWIFTFAB_RELEASE=\(release) \
            \(image) /bin/sh -c \(command) >/dev/null
            """).described("start release \(release) in slot \(slot.rawValue): container \(container) (the dependency image is built only if its files changed)")
    }

    func control(_ verb: String, _ slot: ShellString) -> ShellString { "\(engine) \(raw: verb) \(slot)" }

    // The engine gives it 10 s to stop, then kills it; the marker keeps it stopped at boot.
    func stop(_ slot: Slot) -> ShellString { "\(control("stop -t 10", slot)) >/dev/null 2>&1; " }

    func keepStartedAtBoot(_ slot: Slot) -> ShellString { "" }

    func isActive(_ slot: Slot) -> ShellString {
        "[ \"$(\(engine) inspect -f '{{.State.Running}}' \(slots.container(slot)) 2>/dev/null)\" = true ]"
    }

    func processes() -> Command {
        Command(shell: "\(engine) ps -a --filter \("name=^" + slots.layout.app + "-(blue|green)$") --format '{{.Names}}  {{.Status}}  {{.Image}}' 2>&1 || echo 'the container engine does not answer'")
            .described("list the slots' containers")
    }

    func logTail(_ slot: ShellString, lines: Int, follow: Bool) -> ShellString {
        "\(engine) logs --tail \(lines)\(raw: follow ? " -f" : "") \(slots.name(word: slot)) 2>&1"
    }

    func bootLines() -> String {
        let run = Shell.quote(slots.layout.run)
        return "[ -n \"$live\" ] || exit $rc\n"
            + "\(control("start", slots.name(slotIn: "live")).rendered()) >/dev/null || exit 1\n"
            + "for s in blue green; do\n"
            + "  [ \"$s\" = \"$live\" ] || [ -e \(run)/\"$s\".stopped ] || [ ! -s \(run)/\"$s\".release ] || \(control("start", slots.name(slotIn: "s")).rendered()) >/dev/null\n"
            + "done\nexit $rc\n"
    }

    func doctorCheck(live: ShellString) -> DoctorCheck {
        let names = Slot.allCases.map { slots.container($0) }
        return DoctorCheck("slot containers", Command(shell: """
            echo "live=$(\(live))"; for c in \(names); do echo "$c=$(\(engine) inspect -f '{{.State.Status}}' "$c" 2>/dev/null || echo missing)"; done
            """)) { out in
            let fields = out.fields
            let states = names.map { "\($0) \(fields[$0] ?? "missing")" }.joined(separator: ", ")
            guard let liveSlot = Slot(rawValue: fields["live"] ?? "") else { return Finding(.fail, "no live slot (\(states))", hint: "swiftfab deploy") }
            let container = slots.container(liveSlot)
            return fields[container] == "running" ? Finding(.ok, states)
                : Finding(.fail, "the live slot's container \(container) is \(fields[container] ?? "missing")",
                          hint: "\(control("start", liveSlot))  (its logs: swiftfab logs slot)")
        }
    }
}
