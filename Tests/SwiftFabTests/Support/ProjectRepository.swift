import Foundation
@testable import SwiftFab

/// A user's project as git sees it: a deploy ships commits, so tests that
/// deploy (or dry-run a deploy) commit their project first.
enum ProjectRepository {
    /// Commits everything in `dir`, made a repository first if it is none.
    static func commitAll(in dir: String) async throws {
        let script = "cd \(Shell.quote(dir)) && { [ -d .git ] || git init -q -b main .; } && git add -A"
            + " && git -c user.name=Dev -c user.email=dev@example.com commit -q -m 'First commit'"
        let result = await Shell.runLocally(["/bin/sh", "-c", script])
        guard result.status == 0 else { throw SwiftFabError(.local, "git: \(result.output)") }
    }
}
