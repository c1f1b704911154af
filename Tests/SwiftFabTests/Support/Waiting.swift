import Foundation
@testable import SwiftFab

/// The one way a test waits: for `condition` to hold (an event on a host, a
/// file, a process gone), checked every 25 ms, failing after `seconds` with
/// what it waited for. Never a wait for time itself.
func waitFor(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = monotonicNow() + seconds
    while !(try await condition()) {
        guard monotonicNow() < deadline else { throw SwiftFabError(.timeout, "gave up waiting for \(what) after \(Format.seconds(seconds))") }
        try await Task.sleep(for: .milliseconds(25))
    }
}
