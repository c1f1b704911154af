import Foundation
import SwiftFab

/// `swiftfab logs [slot|blue|green|proxy|db] [--follow|-f] [--lines N|-n N]`:
/// the last lines of the relevant logs on every host, each line prefixed by
/// its host; `--follow` keeps following them (until Ctrl-C).
public func Logs(_ config: ServerConfig) -> DeployfileItem {
    Recipe {
        if let envFile = config.app.envFile { HideValues(ofEnvFile: envFile) }
        TaskDefinition(name: "logs", description: "Tail \(config.layout.app)'s logs on every host: slot (the live one), blue, green, proxy or db; --follow follows",
                       roles: config.app.roles, strategy: .parallel, failurePolicy: .continueOnFailure, options: [LogsRequest.which, LogsRequest.followFlag, LogsRequest.linesOption]) { arguments in
            let request = LogsRequest(arguments)
            return [Run(LogCommands(config: config).tail(request.which, lines: request.lines, follow: request.follow).script)]
        }
    }
}

/// What `logs` was asked for (checked by the command line already).
public struct LogsRequest: Sendable, Equatable {
    public enum Which: String, Sendable, CaseIterable { case slot, blue, green, proxy, db }
    public var which: Which = .slot
    public var follow = false
    public var lines = 50

    public init(which: Which = .slot, follow: Bool = false, lines: Int = 50) {
        self.which = which
        self.follow = follow
        self.lines = lines
    }

    static let which = Argument("which", help: "Which log: the live slot's, a slot's, the proxy's or the database's", default: "slot",
                                choices: Which.allCases.map(\.rawValue))
    static let followFlag = Flag("follow", short: "f", help: "Keep following the logs until Ctrl-C")
    static let linesOption = Option("lines", short: "n", value: "N", help: "How many of the last lines", default: 50, minimum: 0)

    init(_ arguments: TaskArguments) {
        self.init(which: Which(rawValue: arguments[Self.which]) ?? .slot, follow: arguments[Self.followFlag], lines: arguments[Self.linesOption])
    }
}

/// The commands that show each log, as values.
public struct LogCommands: Sendable {
    public var config: ServerConfig
    var slots: SlotCommands { SlotCommands(config: config.app) }

    public init(config: ServerConfig) { self.config = config }

    public func tail(_ which: LogsRequest.Which, lines: Int = 50, follow: Bool = false) -> Command {
        let tailFlags = "-n \(lines)" + (follow ? " -F" : "")
        switch which {
        case .slot:
            // The live slot, read on the host (it may differ between hosts).
            return Command(shell: """
                live=$(\(slots.liveSlot().script)); [ -n "$live" ] || { echo "nothing is live" >&2; exit 1; }; \
                exec \(slots.runtime.logTail("\"$live\"", lines: lines, follow: follow))
                """)
        case .blue, .green:
            return Command(shell: "exec \(slots.runtime.logTail(.word(which.rawValue), lines: lines, follow: follow))")
        case .proxy:
            return files(config.proxy?.logs ?? NginxSite.defaultLogs, tailFlags)
        case .db:
            return files(config.databaseLogs, tailFlags)
        }
    }

    /// Globs are the config's own (trusted), so they expand on the host.
    /// System logs are often not the login user's to read (Debian's nginx and
    /// PostgreSQL logs are `adm`'s, 0640): those are read through `sudo -n`
    /// when it is allowed, else named with their owner and what to do.
    func files(_ patterns: [String], _ flags: String) -> Command {
        // What would let this user read them: the group provision adds, or (with none set) sudo or the file's group.
        let remedy = config.logGroup.map { "it reads logs in group \($0) (swiftfab provision adds it) or through sudo" }
            ?? "it reads them through sudo, or in the file's group (ServerConfig's logGroup: swiftfab provision then adds it)"
        return Command(shell: """
            set --; unreadable=; for f in \(raw: patterns.joined(separator: " ")); do [ -e "$f" ] || continue; set -- "$@" "$f"; [ -r "$f" ] || unreadable="$unreadable $f"; done; \
            [ $# -gt 0 ] || { printf 'no log file matches %s on this host\\n' \(patterns.joined(separator: " ")) >&2; exit 1; }; \
            if [ -n "$unreadable" ]; then \
            if sudo -n true 2>/dev/null; then exec sudo -n tail \(raw: flags) "$@"; fi; \
            for f in $unreadable; do printf '%s is not readable by %s (%s); %s\\n' \
            "$f" "$(id -un)" "$(stat -c '%U:%G %a' "$f")" \(remedy) >&2; done; exit 1; fi; \
            exec tail \(raw: flags) "$@"
            """)
    }
}
