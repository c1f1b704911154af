internal import CLibGit2
import Foundation

/// A commit as swiftfab reports it: in plans, release metadata and deploy output.
public struct GitCommit: Sendable, Equatable, Codable {
    public var sha: String
    public var subject: String
    public var author: String
    public var time: Date
    public var shortSHA: String { String(sha.prefix(7)) }
}

/// The local repository, read through libgit2: no `git` binary needed,
/// and nothing of it (credentials, remotes) ever reaches a server.
/// Not thread-safe: use one instance from one task at a time.
public final class GitRepository {
    let raw: OpaquePointer
    /// The working tree's root.
    public let root: String

    private static let initialized: Bool = { git_libgit2_init() >= 0 }()

    /// Opens the repository containing `path` (searching parent directories).
    public init(discoveringFrom path: String) throws {
        _ = Self.initialized
        var repository: OpaquePointer?
        guard git_repository_open_ext(&repository, path, 0, nil) == 0, let repository else {
            throw SwiftFabError(.local, "\(path) is not inside a git repository (\(Self.lastError()))",
                                hint: "run swiftfab from your project's repository, or set the repository path in the Deployfile")
        }
        raw = repository
        root = git_repository_workdir(repository).map { String(cString: $0) }.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? path
    }

    deinit { git_repository_free(raw) }

    static func lastError() -> String {
        git_error_last().flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown libgit2 error"
    }

    /// Resolves HEAD, a branch, a tag, a (short) SHA or `HEAD~2` to a commit.
    public func resolve(_ revision: String = "HEAD") throws -> GitCommit {
        try withCommit(revision) { commit($0) }
    }

    func withCommit<T>(_ revision: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        var object: OpaquePointer?
        guard git_revparse_single(&object, raw, revision) == 0, let object else {
            throw SwiftFabError(.invalidInput, "no revision \(Shell.quote(revision)) in \(root)",
                                hint: "give a branch, tag or commit that exists locally (git fetch first for remote ones)")
        }
        defer { git_object_free(object) }
        var peeled: OpaquePointer?
        guard git_object_peel(&peeled, object, GIT_OBJECT_COMMIT) == 0, let peeled else {
            throw SwiftFabError(.invalidInput, "\(Shell.quote(revision)) does not name a commit")
        }
        defer { git_object_free(peeled) }
        return try body(peeled)
    }

    func commit(_ commit: OpaquePointer) -> GitCommit {
        let oid = git_commit_id(commit)!
        let author = git_commit_author(commit)!.pointee
        let name = author.name.map { String(cString: $0) } ?? "unknown"
        let email = author.email.map { String(cString: $0) } ?? ""
        return GitCommit(sha: String(cString: git_oid_tostr_s(oid)),
                         subject: git_commit_summary(commit).map { String(cString: $0) } ?? "",
                         author: email.isEmpty ? name : "\(name) <\(email)>",
                         time: Date(timeIntervalSince1970: TimeInterval(git_commit_time(commit))))
    }

    /// Files that differ from HEAD: modified, staged, deleted or untracked
    /// (ignored files excluded). Empty means a clean tree.
    public func dirtyFiles() throws -> [String] {
        var options = git_status_options()
        git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION))
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        var list: OpaquePointer?
        guard git_status_list_new(&list, raw, &options) == 0, let list else {
            throw SwiftFabError(.local, "cannot read the status of \(root): \(Self.lastError())")
        }
        defer { git_status_list_free(list) }
        var files: [String] = []
        for index in 0..<git_status_list_entrycount(list) {
            guard let entry = git_status_byindex(list, index)?.pointee else { continue }
            let delta = entry.index_to_workdir ?? entry.head_to_index
            guard let file = delta?.pointee.new_file.path ?? delta?.pointee.old_file.path else { continue }
            files.append(String(cString: file))
        }
        return files.sorted()
    }

    /// Commits reachable from `to` but not from `from`, newest first
    /// (what a deploy from `from` to `to` brings). nil when `from` is
    /// unknown here (a revision deployed from another clone).
    public func commits(from: String, to: String, limit: Int = 50) throws -> [GitCommit]? {
        guard let fromOID = try? withCommit(from, { git_commit_id($0)!.pointee }) else { return nil }
        let toOID = try withCommit(to) { git_commit_id($0)!.pointee }
        var walk: OpaquePointer?
        guard git_revwalk_new(&walk, raw) == 0, let walk else { throw SwiftFabError(.local, "cannot walk history: \(Self.lastError())") }
        defer { git_revwalk_free(walk) }
        git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue)
        var start = toOID, stop = fromOID
        git_revwalk_push(walk, &start)
        git_revwalk_hide(walk, &stop)
        var result: [GitCommit] = []
        var oid = git_oid()
        while result.count < limit, git_revwalk_next(&oid, walk) == 0 {
            var found: OpaquePointer?
            guard git_commit_lookup(&found, raw, &oid) == 0, let found else { continue }
            result.append(commit(found))
            git_commit_free(found)
        }
        return result
    }
}
