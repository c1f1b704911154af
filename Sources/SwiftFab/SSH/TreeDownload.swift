import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One download, a file or a whole tree, that takes nothing the server says
/// on trust: a listed name must be one plain path component, symlinks and
/// special files inside the tree are skipped rather than followed, modes
/// lose setuid, setgid and sticky and pass through the umask, and every
/// local write goes through `LocalTree`, which never follows a link below
/// the destination.
///
/// The whole remote tree is listed before anything is written, so a bad
/// name stops the download with nothing written at all. Files are staged
/// under temporary names and renamed into place once all have arrived; on
/// failure the staged files are removed.
struct TreeDownload {
    let reader: any RemoteTreeReader
    let options: TransferOptions
    /// The process umask unless a test pins one.
    var umask: mode_t = LocalTree.currentUmask()

    private struct File {
        let source: String
        let directory: [String]
        let name: String
        let size: Int64
        let mode: UInt32
    }

    /// What to write, relative to the local directory the download opens.
    private struct Plan {
        /// Parents before their children.
        var directories: [(path: [String], mode: UInt32)] = []
        var files: [File] = []
        /// Remote symlinks and special files, not followed.
        var skipped: [String] = []
    }

    func run(_ remote: String, to local: String) throws -> TransferSummary {
        let start = monotonicNow()
        guard let top = try reader.attributes(of: remote) else {
            throw SwiftFabError(.transfer, host: reader.hostLabel, "cannot download \(remote): no such file or directory",
                                hint: "check the path on the host")
        }
        var isDirectory: ObjCBool = false
        let localExists = FileManager.default.fileExists(atPath: local, isDirectory: &isDirectory)
        let intoDirectory = local.hasSuffix("/") || (localExists && isDirectory.boolValue)
        let remoteName = URL(fileURLWithPath: remote).lastPathComponent

        // `base` is opened as the user gave it; everything below it comes from `plan`.
        let base: String
        var plan = Plan()
        if top.kind == .directory {
            base = local
            // "get host:/ dir/" has no name to add: the tree goes into dir itself.
            let root = intoDirectory && RemoteName.isSafe(remoteName) ? [remoteName] : []
            plan.directories.append((root, top.permissions))
            try walk(remote, root, destination: local, into: &plan)
            // Only now, so an unsafe name leaves nothing behind. The user's path may have links: theirs to follow.
            do {
                try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
            } catch {
                throw SwiftFabError(.local, "cannot create directory \(local): \(error.localizedDescription)")
            }
        } else {
            let name = intoDirectory ? remoteName : URL(fileURLWithPath: local).lastPathComponent
            guard RemoteName.isSafe(name) else {
                throw SwiftFabError.invalidInput("cannot download \(remote) to \(local): name the local file or directory")
            }
            base = intoDirectory ? local : (local as NSString).deletingLastPathComponent
            plan.files.append(File(source: remote, directory: [], name: name, size: top.size, mode: top.permissions))
        }

        let tree = try LocalTree(opening: base.isEmpty ? "." : base)
        defer { tree.close() }
        let bytes = try write(plan, into: tree)
        let named = top.kind == .directory ? plan.directories[0].path : intoDirectory ? [plan.files[0].name] : []
        let destination = named.isEmpty ? local : local.trimmingSuffix("/") + "/" + named.joined(separator: "/")
        return TransferSummary(files: plan.files.count, bytes: bytes, duration: monotonicNow() - start,
                               destination: destination, skipped: plan.skipped)
    }

    // MARK: - Listing

    private func walk(_ remote: String, _ local: [String], destination: String, into plan: inout Plan) throws {
        for entry in try reader.entries(of: remote) {
            guard RemoteName.isSafe(entry.name) else { throw unsafeName(entry.name, in: remote, destination: destination) }
            let source = remote.hasSuffix("/") ? remote + entry.name : remote + "/" + entry.name
            let attributes = entry.attributes
            switch attributes.kind {
            case .directory:
                plan.directories.append((local + [entry.name], attributes.permissions))
                try walk(source, local + [entry.name], destination: destination, into: &plan)
            case .file:
                plan.files.append(File(source: source, directory: local, name: entry.name, size: attributes.size,
                                       mode: attributes.permissions))
            case .symlink, .special:
                // A link may point out of the tree or at its own parent; a device or fifo may never end.
                plan.skipped.append(source)
            }
        }
    }

    private func unsafeName(_ name: String, in remote: String, destination: String) -> SwiftFabError {
        SwiftFabError(.transfer, host: reader.hostLabel,
                      "the server listed an unsafe file name \(RemoteName.quoted(name)) in \(RemoteName.quoted(remote)); "
                          + "the download was stopped before writing anything, so nothing was written outside \(destination)",
                      hint: "a listed name must not be empty, \".\" or \"..\", nor hold \"/\" or NUL: the server may be compromised; "
                          + "check the host before downloading from it again")
    }

    // MARK: - Writing

    /// Writes the plan; returns the bytes received.
    private func write(_ plan: Plan, into tree: LocalTree) throws -> Int64 {
        for directory in plan.directories { try tree.makeDirectory(directory.path) }
        let total = plan.files.reduce(Int64(0)) { $0 + $1.size }
        var done: Int64 = 0
        var received: Int64 = 0
        var staged: [(file: File, temporary: String)] = []
        var committed = 0
        do {
            for (index, file) in plan.files.enumerated() {
                let (temporary, fd) = try tree.createTemporary(in: file.directory, beside: file.name)
                defer { Foundation.close(fd) }
                staged.append((file, temporary))
                received += try reader.copyFile(file.source, into: fd) { bytes in
                    options.onProgress?(TransferProgress(file: file.source, bytesDone: done + bytes, bytesTotal: total,
                                                         filesDone: index, filesTotal: plan.files.count))
                }
                try finish(fd, mode: fileMode(file.mode), shown: tree.display(file.directory + [file.name]))
                done += file.size
            }
            for (file, temporary) in staged {
                try tree.rename(temporary, to: file.name, in: file.directory)
                committed += 1
            }
        } catch {
            for (file, temporary) in staged.dropFirst(committed) { tree.remove(temporary, in: file.directory) }
            throw error
        }
        // Children before parents, so a read-only directory is made so only when it is full.
        for directory in plan.directories.reversed() { try tree.setMode(directory.path, directoryMode(directory.mode)) }
        return received
    }

    private func finish(_ fd: Int32, mode: mode_t, shown: String) throws {
        guard fchmod(fd, mode) == 0 else {
            throw SwiftFabError(.local, "cannot set the mode of \(shown): \(LocalTree.reason(errno))")
        }
        Foundation.fsync(fd)
    }

    /// Only the permission bits, through the umask, as for any file this process creates:
    /// a server cannot plant setuid or world-writable files. A mode the caller forces
    /// is theirs, but setuid, setgid and sticky are still dropped.
    func fileMode(_ remote: UInt32) -> mode_t {
        if let forced = options.mode { return mode_t(forced & 0o777) }
        return mode_t(remote & 0o777) & ~umask
    }

    func directoryMode(_ remote: UInt32) -> mode_t { mode_t(remote & 0o777) & ~umask }
}
