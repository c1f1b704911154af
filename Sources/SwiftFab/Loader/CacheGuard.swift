import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// swiftfab runs the programs in the Deployfile cache as the user, so no
/// one else may be able to put one there: the folder and every program
/// must belong to the user (or root) and be writable by no one else. What
/// is checked is what is there (lstat, fstat of the opened file), never a
/// symlink followed blindly.
enum CacheGuard {
    /// Creates the cache folder (0700; its parents as usual) or checks the one there.
    static func prepare(_ directory: String) throws {
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw SwiftFabError(.local, "cannot create the Deployfile cache \(directory): \(String(cString: strerror(errno)))",
                                hint: "set SWIFTFAB_CACHE_DIR to a folder of your own")
        }
        try check(directory)
    }

    /// The folder, and every symlink on the way to it, must be trusted.
    static func check(_ directory: String) throws {
        let quoted = Shell.quote(directory)
        var path = directory
        var info = stat()
        for _ in 0..<40 {
            guard lstat(path, &info) == 0 else {
                throw SwiftFabError(.local, "cannot read the Deployfile cache \(directory): \(String(cString: strerror(errno)))",
                                    hint: "remove it (rm \(quoted)) or set SWIFTFAB_CACHE_DIR to a folder of your own")
            }
            guard info.st_mode & S_IFMT == S_IFLNK else { break }
            guard Ownership.trusted(info.st_uid) else {
                throw refusal(directory, "it is a symlink owned by another user (\(Ownership.owner(info.st_uid)))",
                              hint: "remove it (rm \(Shell.quote(path))); swiftfab then makes a private folder there")
            }
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { break }
            path = target.hasPrefix("/") ? target : URL(fileURLWithPath: path).deletingLastPathComponent().path + "/" + target
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw refusal(directory, "it is not a folder", hint: "remove it (rm \(quoted)) or set SWIFTFAB_CACHE_DIR to a folder of your own")
        }
        guard Ownership.trusted(info.st_uid) else {
            throw refusal(directory, "it belongs to another user (\(Ownership.owner(info.st_uid)))",
                          hint: "remove it (rm -rf \(quoted)) or set SWIFTFAB_CACHE_DIR to a folder of your own")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw refusal(directory, "it is writable by group or others (mode \(Ownership.octal(info.st_mode))), so another user could put a program there for swiftfab to run",
                          hint: "chmod 700 \(quoted)")
        }
    }

    /// The cached program at `path`, opened after its checks (so what is
    /// checked is what runs); nil when there is none to run yet.
    static func openProgram(_ path: String) throws -> Int32? {
        let remove = "remove it (rm \(Shell.quote(path))); swiftfab compiles the Deployfile again"
        // O_NONBLOCK: a FIFO put there must not hang the open.
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw refusal(program: path, "it is a symlink", hint: remove) }
            throw SwiftFabError(.local, "cannot open \(path): \(String(cString: strerror(errno)))", hint: remove)
        }
        var info = stat()
        let problem: String?
        if fstat(fd, &info) != 0 {
            problem = "cannot read it: \(String(cString: strerror(errno)))"
        } else if info.st_mode & S_IFMT != S_IFREG {
            problem = "it is not a regular file"
        } else {
            problem = Ownership.problem(info)
        }
        if let problem {
            close(fd)
            throw refusal(program: path, problem, hint: remove)
        }
        // Not executable (a copy gone wrong): compiled again, and replaced.
        guard info.st_mode & 0o100 != 0 else { close(fd); return nil }
        return fd
    }

    static func refusal(_ directory: String, _ problem: String, hint: String) -> SwiftFabError {
        SwiftFabError(.local, "refusing the Deployfile cache \(directory): \(problem)", hint: hint)
    }

    static func refusal(program: String, _ problem: String, hint: String) -> SwiftFabError {
        SwiftFabError(.local, "refusing to run \(program): \(problem)", hint: hint)
    }
}
