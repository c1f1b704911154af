import Foundation
import Testing
@testable import SwiftFab

/// The guardian's shell, run here by /bin/sh: it stops the process groups
/// still running when its input ends, and never a group whose id went to
/// another process meanwhile.
@Suite struct GuardianTests {
    /// A `sleep` in a session (so a process group) of its own, and its pid.
    /// (Started through swiftfab's own local runner: its pipes are not inherited, so it returns at once.)
    func startGroup() async throws -> Int32 {
        let started = try await LocalBackend().run(.raw("setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!"))
        return try #require(Int32(started.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    func alive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 && !((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") ?? true)
    }

    /// Under dash too (a login shell of /bin/sh), whose `kill` refuses `--`.
    @Test(arguments: ["/bin/sh", "/bin/bash"]) func aGroupStillRunningWhenTheInputEndsIsStopped(shell: String) async throws {
        let running = try await startGroup(), ended = try await startGroup()
        defer { kill(-ended, SIGKILL) }
        // A line that is no process id (or init's) is never taken.
        let input = "+\(running)\n+\(ended)\n-\(ended)\n+1\n+\n+x\n"
        let result = await Shell.runLocally([shell, "-c", "printf '%s' \(Shell.quote(input)) | \(shell) -c \(Shell.quote(RemoteCommand.guardian)); echo \"exit $?\""])
        // Nothing but its exit status: no syntax error, no `kill` refusing its arguments.
        #expect(result.output.hasPrefix("exit ") && result.output.split(separator: "\n").count == 1, "\(result.output)")
        try await waitFor("the running group to be stopped") { !alive(running) }
        #expect(alive(ended))  // it had said it ended: not the guardian's any more
    }

    /// A command whose leader has ended is over, even when its `-PID` never
    /// came (lost as the connection closed): what it left in its group, here a
    /// daemon that has not reached a session of its own yet, is left alone.
    @Test func whatAnEndedCommandLeftInItsGroupIsLeftAlone() async throws {
        let started = try await LocalBackend().run(.raw("setsid sh -c 'sleep 300 </dev/null >/dev/null 2>&1 & echo $$ $!'"))
        let pids = started.stdoutText.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let (leader, left) = try (#require(pids.first), #require(pids.last))
        defer { kill(left, SIGKILL) }
        #expect(pids.count == 2 && !alive(leader))
        let result = await Shell.runLocally(["/bin/sh", "-c", "printf '+%s\\n' \(leader) | /bin/sh -c \(Shell.quote(RemoteCommand.guardian)); echo \"exit $?\""])
        #expect(result.output == "exit 0\n")
        #expect(alive(left), "the guardian stopped what an ended command left behind")
        // Nor is an entry taken while the leader ran stopped once it has ended.
        let script = [RemoteCommand.startTimeFunction, RemoteCommand.stillRunningFunction,
                      "start_of $$; me=$$:$st; still_running $me && echo running; still_running \(leader):$st || echo ended"].joined(separator: "\n")
        await #expect(Shell.runLocally(["/bin/sh", "-c", script]).output == "running\nended\n")
    }

    @Test func aGroupWhoseIdWentToAnotherProcessIsLeftAlone() async throws {
        let other = try await startGroup()
        defer { kill(-other, SIGKILL) }
        // The entry's start time is not the process's: its id was reused since.
        let script = RemoteCommand.startTimeFunction + "\n" + RemoteCommand.sameProcessFunction + "\n"
            + "start_of \(other); same \(other):$st && echo same; same \(other):1 || echo reused; same 999999999:1 && echo gone"
        await #expect(Shell.runLocally(["/bin/sh", "-c", script]).output == "same\nreused\ngone\n")
        // And the stop of a timed-out command reads the start time before it signals.
        #expect(RemoteCommand.stopGroup(42).contains("start_of 42; want=$st; kill -TERM -42"))
    }
}
