import SwiftFab

/// How to stop the app's writes on the database host during a restore, and
/// start them again after (whatever happened): writes made while pg_restore
/// replaces the tables would be lost or fail half-way.
public struct WritePause: Sendable {
    /// What is stopped, as the restore's question and report say it.
    public var description: String
    public var stop: Command
    public var resume: Command
    /// Exits 0 when what was stopped runs again: asked when `resume` gives no
    /// clear answer, before anyone is told it did not start.
    public var check: Command?
    /// Held from the stop to the resume, when the app has one (a blue/green deploy lock).
    public var lock: DeployLock?

    public init(_ description: String, stop: Command, resume: Command, check: Command? = nil, lock: DeployLock? = nil) {
        self.description = description
        self.stop = stop
        self.resume = resume
        self.check = check
        self.lock = lock
    }

    public init(_ description: String, stop: String, resume: String) {
        self.init(description, stop: .raw(stop), resume: .raw(resume))
    }

    /// A blue/green app on the same host: its live slot stops (the proxy
    /// answers 502 meanwhile) and starts again; the standby slot is left as it is.
    public static func blueGreen(_ config: BlueGreenConfig) -> WritePause {
        let commands = SlotCommands(config: config)
        let paused = config.layout.run + "/paused-for-restore"
        var stop: ShellString = "rm -f \(paused); live=$(\(commands.liveSlot().script)); "
        var resume: ShellString = "s=$(cat \(paused) 2>/dev/null) || exit 0; "
        var check: ShellString = "live=$(\(commands.liveSlot().script)); "
        for slot in Slot.allCases {
            // The stop must be proven: a slot still running after it means writes go on, so the restore must not start.
            stop = stop + "if [ \"$live\" = \(slot.rawValue) ]; then echo \(slot.rawValue) > \(paused) || exit 1; \(commands.stop(slot).script); "
                + "if \(commands.isStopped(slot).script); then exit 0; fi; echo 'the live slot \(raw: slot.rawValue) is still running after the stop' >&2; exit 1; fi; "
            resume = resume + "if [ \"$s\" = \(slot.rawValue) ]; then \(commands.startAgain(slot).script) || exit 1; fi; "
            check = check + "if [ \"$live\" = \(slot.rawValue) ]; then \(commands.healthCheck(slot).script); exit; fi; "
        }
        return WritePause("the live \(config.layout.app) slot",
                          stop: Command(shell: stop + "echo 'no slot is live: nothing to stop'").described("stop the live slot for the restore (its writes), and prove it stopped"),
                          resume: Command(shell: resume + "rm -f \(paused)").described("start the slot stopped for the restore again"),
                          check: Command(shell: check + "exit 0").described("check that the live slot answers again"),
                          lock: DeployLock(layout: config.layout))
    }
}
