internal import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Uploads and downloads of files and directory trees.
///
/// Every file is written under a temporary name beside its target and
/// renamed into place only when complete, so a reader never sees half a
/// file and a failed transfer leaves the old file untouched.
struct SFTPTransfer {
    let session: SSHSession
    let sftp: SFTPClient
    let options: TransferOptions

    private struct Item {
        let source: String
        let target: String
        let size: Int64
        let mode: UInt32
    }

    // MARK: - Upload

    func upload(_ local: String, to remote: String) throws -> TransferSummary {
        let start = monotonicNow()
        guard let info = fileStatus(local) else {
            throw SwiftFabError(.local, "cannot read \(local): \(String(cString: strerror(errno)))", hint: "check the local path")
        }
        let remoteInfo = try sftp.stat(remote)
        let intoDirectory = remote.hasSuffix("/") || remoteInfo.map(SFTPClient.isDirectory) == true
        let name = URL(fileURLWithPath: local).lastPathComponent
        let target = intoDirectory ? remote.trimmingSuffix("/") + "/" + name : remote

        var directories: [(String, UInt32)] = []
        var items: [Item] = []
        if info.st_mode & S_IFMT == S_IFDIR {
            directories.append((target, UInt32(info.st_mode & 0o7777)))
            try walkLocal(local, target, &directories, &items)
        } else {
            items.append(Item(source: local, target: target, size: Int64(info.st_size), mode: UInt32(info.st_mode & 0o7777)))
        }
        for (path, mode) in directories { try sftp.mkdir(path, mode: mode | 0o700) }

        let total = items.reduce(Int64(0)) { $0 + $1.size }
        var done: Int64 = 0
        var staged: [(temporary: String, target: String)] = []
        do {
            for (index, item) in items.enumerated() {
                let temporary = TemporaryName.beside(path: item.target)
                staged.append((temporary, item.target))
                try uploadFile(item, to: temporary) { sent in
                    options.onProgress?(TransferProgress(file: item.target, bytesDone: done + sent, bytesTotal: total,
                                                         filesDone: index, filesTotal: items.count))
                }
                done += item.size
            }
            try commit(staged)
        } catch {
            staged.forEach { sftp.unlink($0.temporary) }
            throw error
        }
        for (path, mode) in directories.reversed() { try sftp.setMode(path, mode) }
        options.onProgress?(TransferProgress(file: target, bytesDone: total, bytesTotal: total, filesDone: items.count, filesTotal: items.count))
        return TransferSummary(files: items.count, bytes: total, duration: monotonicNow() - start, destination: target)
    }

    private func walkLocal(_ local: String, _ remote: String, _ directories: inout [(String, UInt32)], _ items: inout [Item]) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: local).sorted()
        for name in names {
            let source = local + "/" + name
            let target = remote + "/" + name
            guard let info = fileStatus(source) else { continue } // a dangling link
            if info.st_mode & S_IFMT == S_IFDIR {
                directories.append((target, UInt32(info.st_mode & 0o7777)))
                try walkLocal(source, target, &directories, &items)
            } else if info.st_mode & S_IFMT == S_IFREG {
                items.append(Item(source: source, target: target, size: Int64(info.st_size), mode: UInt32(info.st_mode & 0o7777)))
            }
        }
    }

    private func uploadFile(_ item: Item, to temporary: String, progress: (Int64) -> Void) throws {
        let fd = Foundation.open(item.source, O_RDONLY)
        guard fd >= 0 else { throw SwiftFabError(.local, "cannot open \(item.source): \(String(cString: strerror(errno)))") }
        defer { Foundation.close(fd) }
        // Created 0600 so nobody reads it half-written; the real mode comes last.
        let handle = try sftp.open(temporary, flags: LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, mode: 0o600)
        var closed = false
        defer { if !closed { sftp.closeHandle(handle) } }
        _ = try sftp.write(fd: fd, to: handle, path: item.target, progress: progress)
        try sftp.setHandleMode(handle, options.mode ?? item.mode, path: item.target)
        sftp.fsync(handle)
        sftp.closeHandle(handle)
        closed = true
    }

    /// Moves staged files into place. SFTP's rename refuses to replace an
    /// existing file, so replacements go through one `mv -f` (rename(2),
    /// atomic) per batch.
    private func commit(_ staged: [(temporary: String, target: String)]) throws {
        var replacements: [(String, String)] = []
        for (temporary, target) in staged {
            if try sftp.stat(target) == nil {
                try sftp.renameNew(temporary, target)
            } else {
                replacements.append((temporary, target))
            }
        }
        var index = 0
        while index < replacements.count {
            var script = ""
            while index < replacements.count && script.utf8.count < 60_000 {
                let (temporary, target) = replacements[index]
                script += (script.isEmpty ? "" : " && ") + Shell.join(["mv", "-f", "--", temporary, target])
                index += 1
            }
            let result = try session.exec(.raw(script), ExecOptions())
            guard result.succeeded else {
                throw SwiftFabError(.transfer, host: session.label, "cannot move the uploaded files into place: \(result.stderrText)")
            }
        }
    }

    // MARK: - Download

    /// See `TreeDownload`: the server's names, links and modes are not trusted.
    func download(_ remote: String, to local: String) throws -> TransferSummary {
        try TreeDownload(reader: sftp, options: options).run(remote, to: local)
    }
}
