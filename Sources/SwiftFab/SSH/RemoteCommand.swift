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
    ///
    /// `kill -SIG -PID`, never `kill -SIG -- -PID`: dash (a login shell
    /// of /bin/sh) refuses the `--` and would signal nothing.
    ///
    /// A process id is reused once its process is gone: each entry keeps its
    /// leader's start time (`/proc/PID/stat`, field 22), and a group is only
    /// signalled when its leader is either gone (the group may still have
    /// members, and then its id cannot have been reused) or the same process.
    static let guardian = """
        trap '' HUP INT TERM PIPE; running=
        \(startTimeFunction)
        \(sameProcessFunction)
        while IFS= read -r line; do case $line in
        +*) p=${line#+}; case $p in ''|*[!0-9]*|0|1) continue;; esac; start_of "$p"; running="$running $p:$st";;
        -*) ended=${line#-}; left=; for e in $running; do [ "${e%%:*}" = "$ended" ] || left="$left $e"; done; running=$left;;
        esac; done
        [ -n "$running" ] || exit 0
        for e in $running; do same "$e" && kill -TERM "-${e%%:*}" 2>/dev/null; done; sleep 2
        for e in $running; do same "$e" && kill -KILL "-${e%%:*}" 2>/dev/null; done
        """

    /// `start_of PID` sets `st` to the process's start time, or `-` when
    /// there is no such process (or no /proc). Builtins only.
    static let startTimeFunction = #"start_of() { st=-; s=; read -r s 2>/dev/null < "/proc/$1/stat" || return 0; s=${s##*) }; set -- $s; [ $# -ge 20 ] || return 0; shift 19; st=$1; }"#

    /// `same PID:START` is true unless PID is now a process that started at another time.
    static let sameProcessFunction = #"same() { start_of "${1%%:*}"; [ "$st" = - ] || [ "$st" = "${1#*:}" ]; }"#

    /// Stops a command's process group now (TERM) and, two seconds later,
    /// whatever of it is left (KILL) unless its id went to another process meanwhile.
    static func stopGroup(_ pid: Int) -> String {
        "\(startTimeFunction); start_of \(pid); want=$st; kill -TERM -\(pid) 2>/dev/null; "
            + "(sleep 2; start_of \(pid); { [ \"$st\" = - ] || [ \"$st\" = \"$want\" ]; } && kill -KILL -\(pid)) </dev/null >/dev/null 2>&1 &"
    }
}
