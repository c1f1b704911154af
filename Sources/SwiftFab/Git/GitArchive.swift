internal import CLibGit2
import Foundation

/// What a release archive holds.
public struct ReleaseArchive: Sendable {
    public var commit: GitCommit
    public var path: String
    public var files: Int
    public var bytes: Int64
    /// Submodules are not part of a commit's own tree: listed, not packed.
    public var skippedSubmodules: [String]
}

extension GitRepository {
    /// Writes the tree of `revision` as a tar file: exactly the committed
    /// files (never the working tree), with executable bits and symlinks,
    /// every entry dated at the commit's time, so the same commit always
    /// gives the same archive.
    public func archive(_ revision: String, to path: String) throws -> ReleaseArchive {
        try withCommit(revision) { commitObject in
            let info = commit(commitObject)
            var tree: OpaquePointer?
            guard git_commit_tree(&tree, commitObject) == 0, let tree else {
                throw SwiftFabError(.local, "cannot read the tree of \(info.shortSHA): \(Self.lastError())")
            }
            defer { git_tree_free(tree) }
            // The release's code, maybe with secrets: private, new, and not through a planted symlink.
            let handle = try PrivateFile.create(path)
            defer { try? handle.close() }
            var writer = TarWriter(handle: handle, mtime: Int(info.time.timeIntervalSince1970))
            var files = 0
            var skipped: [String] = []
            do {
                try add(tree, prefix: "", to: &writer, files: &files, skipped: &skipped)
                try writer.finish()
            } catch {
                unlink(path)  // ours (created just now): no half archive is left behind
                throw error
            }
            return ReleaseArchive(commit: info, path: path, files: files, bytes: writer.bytes, skippedSubmodules: skipped)
        }
    }

    private func add(_ tree: OpaquePointer, prefix: String, to writer: inout TarWriter, files: inout Int, skipped: inout [String]) throws {
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let path = prefix + String(cString: git_tree_entry_name(entry))
            let mode = git_tree_entry_filemode(entry)
            var oid = git_tree_entry_id(entry)!.pointee
            switch mode {
            case GIT_FILEMODE_TREE:
                try writer.addDirectory(path)
                var subtree: OpaquePointer?
                guard git_tree_lookup(&subtree, raw, &oid) == 0, let subtree else {
                    throw SwiftFabError(.local, "cannot read \(path) from the repository: \(Self.lastError())")
                }
                defer { git_tree_free(subtree) }
                try add(subtree, prefix: path + "/", to: &writer, files: &files, skipped: &skipped)
            case GIT_FILEMODE_COMMIT:
                skipped.append(path)
            default:
                var blob: OpaquePointer?
                guard git_blob_lookup(&blob, raw, &oid) == 0, let blob else {
                    throw SwiftFabError(.local, "cannot read \(path) from the repository: \(Self.lastError())")
                }
                defer { git_blob_free(blob) }
                let contents = UnsafeRawBufferPointer(start: git_blob_rawcontent(blob), count: Int(git_blob_rawsize(blob)))
                if mode == GIT_FILEMODE_LINK {
                    try writer.addSymlink(path, target: String(decoding: contents, as: UTF8.self))
                } else {
                    try writer.addFile(path, mode: mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0o755 : 0o644, contents: contents)
                }
                files += 1
            }
        }
    }
}
