/// How commands reach the host's login shell, and the guardian that stops
/// them when their connection is lost.
enum RemoteCommand {
    /// The login shell reports its PID first (sshd made it a session and
    /// process-group leader, so a time-out, Ctrl-C or the guardian can stop
    /// everything the command started), then runs the command. The line
    /// break matters: shells run the first line before they parse the next,
    /// so the PID is reported even when the command does not parse.
    static func reportingPID(_ text: String) -> String {
        "echo \(PIDReport.markerText)$$ >&2\n" + text
    }

    /// Runs for the whole connection in a channel of its own, reading lines
    /// the client writes: `+PID` when a command starts, `-PID` when it has
    /// ended. Its input ends when the connection does; if that happens while
    /// commands still run (a lost connection, a laptop gone to sleep), it
    /// stops their process groups (TERM, then KILL after 2 s). Builtins only
    /// while it waits: no process per command, nothing polled.
    ///
    /// `kill -SIG -PID`, never `kill -SIG -- -PID`: dash (a login shell
    /// of /bin/sh) refuses the `--` and would signal nothing.
    ///
    /// Only a command still running is stopped: its leader (the login shell
    /// that runs it) must be the very process that started it (`/proc/PID/stat`,
    /// field 22, the start time taken when the command was announced) and
    /// not yet ended. A command whose leader is gone has ended, even when its
    /// `-PID` never arrived (the server may drop what is in flight when the
    /// connection closes): what it left in its group, such as a daemon not yet
    /// in a session of its own, is not the guardian's to stop. A process id
    /// reused since is another process, and never signalled. A group that got
    /// TERM gets KILL two seconds later, unless its id went to another process.
    static let guardian = """
        trap '' HUP INT TERM PIPE; running=
        \(startTimeFunction)
        \(sameProcessFunction)
        \(stillRunningFunction)
        while IFS= read -r line; do case $line in
        +*) p=${line#+}; case $p in ''|*[!0-9]*|0|1) continue;; esac; start_of "$p"; [ "$st" = - ] || running="$running $p:$st";;
        -*) ended=${line#-}; left=; for e in $running; do [ "${e%%:*}" = "$ended" ] || left="$left $e"; done; running=$left;;
        esac; done
        stopped=; for e in $running; do still_running "$e" && kill -TERM "-${e%%:*}" 2>/dev/null && stopped="$stopped $e"; done
        [ -n "$stopped" ] || exit 0
        sleep 2
        for e in $stopped; do same "$e" && kill -KILL "-${e%%:*}" 2>/dev/null; done
        """

    /// `start_of PID` sets `st` to the process's start time, or `-` when
    /// there is no such process (or no /proc), and `state` to its state
    /// letter (`Z`: ended, not yet reaped). Builtins only.
    static let startTimeFunction = #"start_of() { st=-; state=; s=; read -r s 2>/dev/null < "/proc/$1/stat" || return 0; s=${s##*) }; set -- $s; [ $# -ge 20 ] || return 0; state=$1; shift 19; st=$1; }"#

    /// `same PID:START` is true unless PID is now a process that started at another time.
    static let sameProcessFunction = #"same() { start_of "${1%%:*}"; [ "$st" = - ] || [ "$st" = "${1#*:}" ]; }"#

    /// `still_running PID:START` is true while PID is that very process and has not ended.
    static let stillRunningFunction = #"still_running() { start_of "${1%%:*}"; [ "$st" != - ] && [ "$st" = "${1#*:}" ] && [ "$state" != Z ]; }"#

    /// Stops a command's process group now (TERM) and, two seconds later,
    /// whatever of it is left (KILL) unless its id went to another process meanwhile.
    static func stopGroup(_ pid: Int) -> String {
        "\(startTimeFunction); start_of \(pid); want=$st; kill -TERM -\(pid) 2>/dev/null; "
            + "(sleep 2; start_of \(pid); { [ \"$st\" = - ] || [ \"$st\" = \"$want\" ]; } && kill -KILL -\(pid)) </dev/null >/dev/null 2>&1 &"
    }
}
