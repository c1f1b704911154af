import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local directory a download writes into, reached only through file
/// descriptors. The directory itself is opened by path (the user chose it,
/// links and all); every component below it is opened with O_NOFOLLOW, so a
/// symlink inside it, planted before or swapped in during the download, is
/// never followed and nothing lands outside it.
final class LocalTree {
    /// For messages.
    let path: String
    private var root: Int32
    /// The directories open along the last path used: a walk in tree order reopens little,
    /// and only as many descriptors stay open as the tree is deep.
    private var opened: [(name: String, fd: Int32)] = []

    init(opening path: String) throws {
        self.path = path
        root = Foundation.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else {
            throw SwiftFabError(.local, "cannot open the directory \(path): \(Self.reason(errno))", hint: "check the local path")
        }
    }

    deinit { close() }

    func close() {
        opened.forEach { _ = Foundation.close($0.fd) }
        opened = []
        if root >= 0 { Foundation.close(root) }
        root = -1
    }

    func display(_ components: [String]) -> String {
        ([path.trimmingSuffix("/")] + components).joined(separator: "/")
    }

    /// The existing directory at `components` below the root.
    func directory(_ components: [String]) throws -> Int32 {
        var depth = 0
        while depth < opened.count && depth < components.count && opened[depth].name == components[depth] { depth += 1 }
        while opened.count > depth { Foundation.close(opened.removeLast().fd) }
        while opened.count < components.count {
            let parent = opened.last?.fd ?? root
            let name = components[opened.count]
            let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw refusal(parent, Array(components.prefix(opened.count + 1)), errno) }
            opened.append((name, fd))
        }
        return opened.last?.fd ?? root
    }

    /// Creates the directory unless it exists; private (0700) until `setMode`.
    func makeDirectory(_ components: [String]) throws {
        guard let name = components.last else { return }
        let parent = try directory(Array(components.dropLast()))
        if mkdirat(parent, name, 0o700) != 0 && errno != EEXIST {
            throw SwiftFabError(.local, "cannot create directory \(display(components)): \(Self.reason(errno))",
                                hint: "check free space and permissions on this machine")
        }
        _ = try directory(components) // what exists there must be a real directory
    }

    /// A new empty file (0600, so nobody reads it half-written) under a
    /// fresh temporary name beside `name`.
    func createTemporary(in components: [String], beside name: String) throws -> (name: String, fd: Int32) {
        let parent = try directory(components)
        let temporary = TemporaryName.beside(name)
        let fd = openat(parent, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SwiftFabError(.local, "cannot create \(display(components + [temporary])): \(Self.reason(errno))",
                                hint: "check that the local directory is writable")
        }
        return (temporary, fd)
    }

    /// Moves a finished temporary file onto its name. A symlink already at
    /// that name is replaced itself; its target is never touched.
    func rename(_ temporary: String, to name: String, in components: [String]) throws {
        let parent = try directory(components)
        guard renameat(parent, temporary, parent, name) == 0 else {
            throw SwiftFabError(.local, "cannot move the downloaded file into \(display(components + [name])): \(Self.reason(errno))")
        }
    }

    /// Best effort, for clean-up after a failure.
    func remove(_ temporary: String, in components: [String]) {
        guard let parent = try? directory(components) else { return }
        _ = unlinkat(parent, temporary, 0)
    }

    /// Gives a directory its final mode, through its descriptor.
    func setMode(_ components: [String], _ mode: mode_t) throws {
        // A directory that was already there may belong to someone else: its mode stays theirs.
        _ = fchmod(try directory(components), mode)
    }

    /// Why a component cannot be opened as a directory, in words.
    private func refusal(_ parent: Int32, _ components: [String], _ code: Int32) -> SwiftFabError {
        let shown = display(components)
        var info = stat()
        if fstatat(parent, components[components.count - 1], &info, AT_SYMLINK_NOFOLLOW) == 0 {
            if info.st_mode & S_IFMT == S_IFLNK {
                return SwiftFabError(.local, "cannot download into \(shown): it is a symbolic link, and a download never follows links inside its destination",
                                     hint: "remove the link, or download to a new directory")
            }
            if info.st_mode & S_IFMT != S_IFDIR {
                return SwiftFabError(.local, "cannot download into \(shown): a file is in the way of a directory",
                                     hint: "move the file away, or download to a new directory")
            }
        }
        return SwiftFabError(.local, "cannot open the directory \(shown): \(Self.reason(code))", hint: "check permissions on this machine")
    }

    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The process umask, read without changing it where the system shows it (Linux 4.7+).
    static func currentUmask() -> mode_t {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
           let value = mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) {
            return value
        }
        let value = umask(0o022)
        umask(value)
        return value
    }
}
