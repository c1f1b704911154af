import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Local file and tree copies with the same atomic-per-file promise as SFTP.
struct LocalCopy {
    let options: TransferOptions

    func copy(_ source: String, to destination: String) throws -> TransferSummary {
        let start = monotonicNow()
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw SwiftFabError(.local, "cannot copy \(source): no such file or directory", hint: "check the path")
        }
        var targetIsDirectory: ObjCBool = false
        let into = destination.hasSuffix("/") || (manager.fileExists(atPath: destination, isDirectory: &targetIsDirectory) && targetIsDirectory.boolValue)
        let target = into ? destination.trimmingSuffix("/") + "/" + URL(fileURLWithPath: source).lastPathComponent : destination
        var files: [(String, String)] = []
        if isDirectory.boolValue {
            try manager.createDirectory(atPath: target, withIntermediateDirectories: true)
            let enumerator = manager.enumerator(atPath: source)
            while let relative = enumerator?.nextObject() as? String {
                var childIsDirectory: ObjCBool = false
                _ = manager.fileExists(atPath: source + "/" + relative, isDirectory: &childIsDirectory)
                if childIsDirectory.boolValue {
                    try manager.createDirectory(atPath: target + "/" + relative, withIntermediateDirectories: true)
                } else {
                    files.append((source + "/" + relative, target + "/" + relative))
                }
            }
        } else {
            files.append((source, target))
        }
        var bytes: Int64 = 0
        for (index, (from, to)) in files.enumerated() {
            let temporary = TemporaryName.beside(path: to)
            do {
                try manager.copyItem(atPath: from, toPath: temporary)
                let mode = try options.mode ?? (manager.attributesOfItem(atPath: from)[.posixPermissions] as? NSNumber)?.uint32Value ?? 0o644
                chmod(temporary, mode_t(mode))
                guard rename(temporary, to) == 0 else { throw SwiftFabError(.local, "cannot move \(temporary) to \(to): \(String(cString: strerror(errno)))") }
            } catch {
                _ = unlink(temporary)
                throw error as? SwiftFabError ?? SwiftFabError(.local, "cannot copy \(from) to \(to): \(error.localizedDescription)")
            }
            bytes += Int64(fileStatus(to)?.st_size ?? 0)
            options.onProgress?(TransferProgress(file: to, bytesDone: bytes, bytesTotal: bytes, filesDone: index + 1, filesTotal: files.count))
        }
        return TransferSummary(files: files.count, bytes: bytes, duration: monotonicNow() - start, destination: target)
    }
}
