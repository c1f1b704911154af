import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C and SIGTERM as a normal way for a run to end.
///
/// The first signal stops what is running: every remote (and local) command
/// in flight is killed with its whole process group, no new step starts,
/// and the cleanup a failure runs (releasing the deploy lock, starting the
/// app again after a write pause, removing temporary files) still runs:
/// only commands marked as cleanup start after the signal, and those are not
/// stopped (`Command.OnInterrupt`).
/// The process then exits 130 (SIGINT) or 143 (SIGTERM). A second signal,
/// or one while a question waits for its answer, means "now": temporary
/// files are removed, the terminal is restored, and the process exits.
public enum Interrupt {
    private static let state = State()

    /// Catches SIGINT and SIGTERM from now on (once per process).
    public static func install(announce: @escaping @Sendable (String) -> Void = { StandardStreams.write($0 + "\n", to: .stderr) }) {
        state.install(announce: announce)
    }

    /// The signal that interrupted the run, if one did.
    public static var signal: Int32? { state.signal }

    /// How many interrupts have arrived: a command remembers the count when
    /// it starts and is stopped when it grows.
    public static var count: Int { state.count }

    /// The exit status for an interrupted run: 128 + the signal's number.
    public static var exitStatus: Int32? { signal.map { 128 + $0 } }

    /// The interrupt as people know it: "Ctrl-C", "SIGTERM", "the closed output".
    public static var signalName: String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGPIPE: return "the closed output"
        default: return "Ctrl-C"
        }
    }

    /// Runs `body`, a question to the person at the terminal, during which
    /// a signal exits at once (nothing runs on a host while we wait for an
    /// answer): `restore` puts the terminal back first (echo turned off).
    public static func prompting<T>(restore: @escaping @Sendable () -> Void = {}, _ body: () throws -> T) rethrows -> T {
        let key = state.addHardExitAction(restore)
        defer { state.removeHardExitAction(key) }
        return try body()
    }

    /// Our output's reader is gone (`swiftfab deploy | head`): the run stops
    /// as on Ctrl-C, with its cleanup, and exits 141 (as SIGPIPE would).
    /// Only ever the first interrupt: it never turns a Ctrl-C into "now".
    static func outputClosed(stderr: Bool) { state.outputClosed(stderr: stderr) }

    /// The error a stopped command or step ends with: "interrupted: `what`".
    /// Made only where work is stopped or not started, so it also marks the
    /// run as having stopped something (`stoppedSomething`).
    public static func error(host: String? = nil, _ what: String) -> SwiftFabError {
        state.markStopped()
        return SwiftFabError(.interrupted, host: host, "interrupted: " + what)
    }

    /// True once an interrupt stopped a command or kept a step from starting,
    /// even one whose failure the task tolerated: only a run that stopped
    /// nothing may end as if no signal came.
    public static var stoppedSomething: Bool { state.stoppedSomething }

    final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var sources: [DispatchSourceSignal] = []
        private var received: [Int32] = []
        private var hardExitActions: [Int: @Sendable () -> Void] = [:]
        private var nextKey = 0
        private var announce: @Sendable (String) -> Void = { _ in }

        private var stopped = false

        var signal: Int32? { lock.withLock { received.first } }
        var count: Int { lock.withLock { received.count } }
        var stoppedSomething: Bool { lock.withLock { stopped } }
        func markStopped() { lock.withLock { stopped = true } }

        func install(announce: @escaping @Sendable (String) -> Void) {
            lock.withLock {
                guard sources.isEmpty else { return }
                self.announce = announce
                // A closed output must be an EPIPE we handle (StandardStreams), not
                // a SIGPIPE that kills the run before its cleanup.
                #if canImport(Glibc)
                Glibc.signal(SIGPIPE, SIG_IGN)
                #else
                Darwin.signal(SIGPIPE, SIG_IGN)
                #endif
                for number in [SIGINT, SIGTERM] {
                    // The default action would kill the process before anything is cleaned up.
                    #if canImport(Glibc)
                    Glibc.signal(number, SIG_IGN)
                    #else
                    Darwin.signal(number, SIG_IGN)
                    #endif
                    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                    source.setEventHandler { [self] in received(number) }
                    source.resume()
                    sources.append(source)
                }
            }
        }

        func received(_ number: Int32) {
            let (first, actions, say) = lock.withLock { () -> (Bool, [@Sendable () -> Void], @Sendable (String) -> Void) in
                received.append(number)
                return (received.count == 1, Array(hardExitActions.values), announce)
            }
            let name = number == SIGTERM ? "SIGTERM" : "Ctrl-C"
            if first && actions.isEmpty {
                say("swiftfab: \(name): stopping the commands that run (their whole process groups) and cleaning up; \(number == SIGTERM ? "another SIGTERM" : "Ctrl-C again") exits at once")
                return
            }
            say(first ? "swiftfab: \(name): exiting" : "swiftfab: \(name) again: exiting now; remote commands were already told to stop")
            actions.forEach { $0() }
            TemporaryPaths.removeAll()
            exit(128 + (signal ?? number))
        }

        func outputClosed(stderr: Bool) {
            let (first, actions, say) = lock.withLock { () -> (Bool, [@Sendable () -> Void], @Sendable (String) -> Void) in
                guard received.isEmpty else { return (false, [], announce) }
                received.append(SIGPIPE)
                return (true, Array(hardExitActions.values), announce)
            }
            guard first else { return }
            if !actions.isEmpty {  // a question waits for an answer nobody can read
                actions.forEach { $0() }
                TemporaryPaths.removeAll()
                exit(128 + SIGPIPE)
            }
            if !stderr { say("swiftfab: the output was closed (what read it has ended): stopping the commands that run and cleaning up") }
        }

        func addHardExitAction(_ action: @escaping @Sendable () -> Void) -> Int {
            lock.withLock {
                nextKey += 1
                hardExitActions[nextKey] = action
                return nextKey
            }
        }

        func removeHardExitAction(_ key: Int) { _ = lock.withLock { hardExitActions.removeValue(forKey: key) } }
    }
}
