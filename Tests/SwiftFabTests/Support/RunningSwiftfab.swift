import Foundation
@testable import SwiftFab

/// The real `swiftfab`, started in the background, so a test can watch its
/// output, send it a signal at the moment it chooses, and wait for its exit.
final class RunningSwiftfab: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var collected = Data()
    private let exited = DispatchSemaphore(value: 0)
    private let pipe = Pipe()

    init(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment
            .merging(["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache]) { _, new in new }
            .merging(environment) { _, new in new }
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            lock.withLock { collected.append(data) }
        }
        process.terminationHandler = { [exited] _ in exited.signal() }
        try process.run()
    }

    var output: String { lock.withLock { String(decoding: collected, as: UTF8.self) } }

    /// Waits until the output holds `text` (the event the test waits for), at most `seconds`.
    func waitForOutput(_ text: String, seconds: Double = 60) async throws {
        try await waitFor("\(text) in the output", seconds: seconds) { output.contains(text) || !process.isRunning }
        guard output.contains(text) else {
            throw SwiftFabError(.command, "swiftfab ended before printing \(text):\n\(output)")
        }
    }

    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Its process id: the launcher's, and the compiled Deployfile's after the exec.
    var pid: Int32 { process.processIdentifier }

    /// The exit status, once it has exited (at most `seconds`).
    func exitStatus(seconds: Double = 60) async throws -> Int32 {
        let done = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [exited] in continuation.resume(returning: exited.wait(timeout: .now() + seconds) == .success) }
        }
        guard done else {
            send(SIGKILL)
            throw SwiftFabError(.timeout, "swiftfab did not exit within \(seconds) s:\n\(output)")
        }
        // What is still in the pipe: every writer is gone, so this read ends.
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = pipe.fileHandleForReading.readDataToEndOfFile()
        lock.withLock { collected.append(rest) }
        return process.terminationStatus
    }

    /// Processes on this machine (the sandbox hosts share its process table) whose command line holds `pattern`.
    static func processes(matching pattern: String) async -> [String] {
        await Shell.runLocally(["/usr/bin/pgrep", "-af", "--", pattern]).output.split(separator: "\n").map(String.init)
            .filter { !$0.contains("pgrep") }
    }
}
