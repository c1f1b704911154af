import SwiftFab

/// How to stop the app's writes on the database host during a restore, and
/// start them again after (whatever happened): writes made while pg_restore
/// replaces the tables would be lost or fail half-way.
public struct WritePause: Sendable {
    /// What is stopped, as the restore's question and report say it.
    public var description: String
    public var stop: Command
    public var resume: Command

    public init(_ description: String, stop: Command, resume: Command) {
        self.description = description
        self.stop = stop
        self.resume = resume
    }

    public init(_ description: String, stop: String, resume: String) {
        self.init(description, stop: .raw(stop), resume: .raw(resume))
    }

    /// A blue/green app on the same host: its live slot stops (the proxy
    /// answers 502 meanwhile) and starts again; the standby slot is left as it is.
    public static func blueGreen(_ config: BlueGreenConfig) -> WritePause {
        let commands = SlotCommands(config: config)
        let paused = config.layout.run + "/paused-for-restore"
        var stop: ShellString = "rm -f \(paused); "
        var resume: ShellString = "s=$(cat \(paused) 2>/dev/null) || exit 0; "
        for slot in Slot.allCases {
            stop = stop + "if [ \"$(readlink \(commands.liveSocket))\" = \(slot.rawValue + ".sock") ]; then echo \(slot.rawValue) > \(paused) && \(commands.stop(slot).script); fi; "
            let start: ShellString
            if case .container(let runtime) = config.runtime {
                start = "\(raw: runtime.engine) start \(commands.container(slot)) >/dev/null"
            } else {
                start = "supervisorctl -c \(commands.supervisorConf) start \(commands.program(slot)) >/dev/null"
            }
            resume = resume + "if [ \"$s\" = \(slot.rawValue) ]; then \(start) || exit 1; fi; "
        }
        return WritePause("the live \(config.layout.app) slot", stop: Command(shell: stop + "true"),
                          resume: Command(shell: resume + "rm -f \(paused)"))
    }
}
