import Foundation
import Testing

/// The tests that need the sandbox: root, real sshd hosts on loopback,
/// nginx, PostgreSQL, podman, or the built `swiftfab` compiling Deployfiles.
/// `bash scripts/test` installs and starts all that and sets
/// SWIFTFAB_SANDBOX=1; plain `swift test` runs only the unit tests (in
/// memory, a local shell at most), in seconds, on any machine.
enum Sandbox {
    static let available = ProcessInfo.processInfo.environment["SWIFTFAB_SANDBOX"] == "1"
}

extension Trait where Self == ConditionTrait {
    /// Runs only in the sandbox (`bash scripts/test`), once its hosts are up
    /// (started by the first test that needs them, awaited by the others).
    static var sandbox: Self {
        .enabled("needs the sandbox (real sshd hosts, servers, root): run bash scripts/test") {
            guard Sandbox.available else { return false }
            try await TestHosts.started()
            return true
        }
    }
}
