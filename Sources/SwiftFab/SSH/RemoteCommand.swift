/// How every command is wrapped for the host's login shell.
enum RemoteCommand {
    /// First the login shell's PID (sshd made it a session and process-group
    /// leader), so a time-out or Ctrl-C can stop everything the command
    /// started; then a watchdog tied to the connection: once a second it
    /// checks the sshd process that serves the connection (the shell's
    /// parent), and if that is gone while the command still runs (a lost
    /// connection, a laptop that went to sleep) it stops the command's whole
    /// process group. Then the command itself, under the same PID (`exec`),
    /// so its exit status and signal reach us unchanged. A command that has
    /// ended is never signalled, so what it left running on purpose (a
    /// `nohup ... &`) survives the end of the run.
    static func tiedToConnection(_ text: String) -> String {
        "echo swiftfab-pid:$$ >&2; p=$PPID; "
            + "(while sleep 1; kill -0 $p && kill -0 $$; do :; done; kill -0 $$ && kill -TERM -- -$$) </dev/null >/dev/null 2>&1 & "
            + "exec sh -c " + Shell.quote(text)
    }
}
