import Foundation

/// A dedicated OS thread that runs submitted jobs one at a time.
///
/// libssh2 calls block and a libssh2 session is not thread-safe, so each
/// connection owns one of these: its blocking work never lands on Swift's
/// cooperative pool (2 threads on a 2-core machine), and fan-out to 100
/// hosts means 100 threads waiting in `poll`, not 2 threads taking turns.
final class WorkerThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopped = false
    /// Runs between jobs every `idleInterval` seconds (keepalives).
    private let idle: (() -> Void)?
    private let idleInterval: Double

    init(name: String, idleInterval: Double = 0, idle: (() -> Void)? = nil) {
        self.idle = idle
        self.idleInterval = idleInterval
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped {
                if idle != nil && idleInterval > 0 {
                    if !condition.wait(until: Date(timeIntervalSinceNow: idleInterval)) && jobs.isEmpty && !stopped {
                        condition.unlock()
                        idle?()
                        condition.lock()
                    }
                } else {
                    condition.wait()
                }
            }
            if jobs.isEmpty && stopped {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on this thread and returns its result to the awaiting task.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Finishes the queued jobs, then ends the thread.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }
}
