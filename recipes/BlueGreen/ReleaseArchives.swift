import Foundation
import SwiftFab

/// One archive of a commit for all the hosts of a batch that ship it at
/// once: built once, off Swift's cooperative threads (libgit2 and the file
/// writes block), uploaded by each, and removed when the last of them is done.
actor ReleaseArchives {
    static let shared = ReleaseArchives()

    private struct Entry {
        let build: Task<(archive: ReleaseArchive, folder: String), any Error>
        var users: Int
    }
    private var entries: [String: Entry] = [:]

    /// The archive of `revision` in the repository at `root`; call `release` when done with it.
    func acquire(root: String, revision: String) async throws -> ReleaseArchive {
        let key = root + "\n" + revision
        let build: Task<(archive: ReleaseArchive, folder: String), any Error>
        if var entry = entries[key] {
            entry.users += 1
            entries[key] = entry
            build = entry.build
        } else {
            build = Task.detached { try await Self.build(root: root, revision: revision) }
            entries[key] = Entry(build: build, users: 1)
        }
        do {
            return try await build.value.archive
        } catch {
            await release(root: root, revision: revision)
            throw error
        }
    }

    func release(root: String, revision: String) async {
        let key = root + "\n" + revision
        guard var entry = entries[key] else { return }
        entry.users -= 1
        guard entry.users == 0 else { entries[key] = entry; return }
        entries[key] = nil
        if let built = try? await entry.build.value { TemporaryPaths.remove(built.folder) }
    }

    /// The archive itself, on a thread of the system's, not the cooperative pool's.
    private static func build(root: String, revision: String) async throws -> (archive: ReleaseArchive, folder: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    // Private (0700 folder, 0600 file), and removed on every way out: done, failed, interrupted.
                    let folder = try PrivateFile.makeTemporaryDirectory(prefix: "swiftfab-release-")
                    do {
                        let archive = try GitRepository(discoveringFrom: root).archive(revision, to: folder + "/release.tar")
                        continuation.resume(returning: (archive, folder))
                    } catch {
                        TemporaryPaths.remove(folder)
                        throw error
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
