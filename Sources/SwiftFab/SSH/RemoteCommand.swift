/// How commands reach the host's login shell, and the guardian that stops
/// them when their connection is lost.
enum RemoteCommand {
    /// The login shell reports its PID first (sshd made it a session and
    /// process-group leader, so a time-out, Ctrl-C or the guardian can stop
    /// everything the command started), then runs the command. The line
    /// break matters: shells run the first line before they parse the next,
    /// so the PID is reported even when the command does not parse.
    static func reportingPID(_ text: String) -> String {
        "echo swiftfab-pid:$$ >&2\n" + text
    }

    /// Runs for the whole connection in a channel of its own, reading lines
    /// the client writes: `+PID` when a command starts, `-PID` when it has
    /// ended. Its input ends when the connection does; if that happens while
    /// commands still run (a lost connection, a laptop gone to sleep), it
    /// stops their process groups (TERM, then KILL after 2 s). Builtins only
    /// while it waits: no process per command, nothing polled.
    static let guardian = """
        trap '' HUP INT TERM PIPE; running=
        while IFS= read -r line; do case $line in
        +*) running="$running ${line#+}";;
        -*) ended=${line#-}; left=; for p in $running; do [ "$p" = "$ended" ] || left="$left $p"; done; running=$left;;
        esac; done
        [ -n "$running" ] || exit 0
        for p in $running; do kill -TERM -- "-$p" 2>/dev/null; done; sleep 2
        for p in $running; do kill -KILL -- "-$p" 2>/dev/null; done
        """
}
