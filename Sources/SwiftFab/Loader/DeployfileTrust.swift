import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Deployfile is compiled and run as the user, so it runs only when no one
/// else could have written it or put it in the search's way (OpenSSH's
/// StrictModes for authorized_keys): the file, each symlink on the way to
/// it, and the folders that hold them or were searched before must belong
/// to the user or root and be writable by no one else. The user may vouch for
/// one file by naming it (`-f FILE --trust-deployfile`).
public enum DeployfileTrust {
    public static let flag = "--trust-deployfile"

    /// Throws the refusal when `deployfile`, or one of `folders`, could have been written by someone else.
    public static func check(_ path: String, folders: [String]) throws {
        let deployfile = URL(fileURLWithPath: path).standardizedFileURL.path
        var problems: [String] = []
        var info = stat()
        var checked = folders
        // Each symlink on the way, and the folder it is in: whoever can write there chooses what runs.
        var file = deployfile
        for _ in 0..<40 {
            guard lstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFLNK,
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: file) else { break }
            if !Ownership.trusted(info.st_uid) {
                problems.append("\(file): it is a symlink owned by another user (\(Ownership.owner(info.st_uid))); rm \(Shell.quote(file))")
            }
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
            checked.append(DeployfileCompiler.resolved(folder.path))
            file = URL(fileURLWithPath: target, relativeTo: folder).standardizedFileURL.path
        }
        checked.append(DeployfileCompiler.resolved(URL(fileURLWithPath: file).deletingLastPathComponent().path))
        if stat(file, &info) == 0 {
            problems += problem(file, info, folder: false)
        } else {
            problems.append("\(file): cannot read it: \(String(cString: strerror(errno)))")
        }
        for folder in Set(checked).sorted() where stat(folder, &info) == 0 {
            problems += problem(folder, info, folder: true)
        }
        guard !problems.isEmpty else { return }
        throw SwiftFabError(.config, "refusing to compile \(deployfile): it would run as you, and someone else could have written it:\n"
                            + problems.map { "  - " + $0 }.joined(separator: "\n"),
                            hint: "fix what is listed; or, if you have read it and trust it as it is, name it and say so: swiftfab -f \(Shell.quote(deployfile)) \(flag) TASK")
    }

    /// What is wrong with the file or folder at `path`, and the fix.
    private static func problem(_ path: String, _ info: stat, folder: Bool) -> [String] {
        let quoted = Shell.quote(path)
        guard info.st_mode & S_IFMT == (folder ? S_IFDIR : S_IFREG) else { return ["\(path): it is not a \(folder ? "folder" : "regular file")"] }
        guard let problem = Ownership.problem(info) else { return [] }
        let fix = Ownership.trusted(info.st_uid) ? "chmod go-w \(quoted)" : "if it should be yours: sudo chown \(Ownership.owner(getuid(), nameOnly: true)) \(quoted)"
        return ["\(path): \(problem); \(fix)"]
    }
}
