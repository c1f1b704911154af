import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files and folders on the operator's machine that hold secrets or code
/// on its way to a server. They are private in the very call that creates
/// them (0600 / 0700, whatever the umask): no other user can open them
/// even for an instant, as they could between a create and a chmod. They
/// are never written through a symlink someone planted, and never reuse a
/// file that is already there.
public enum PrivateFile {
    /// Creates `path` for writing, mode 0600. Fails if anything is there
    /// already, a symlink included.
    public static func create(_ path: String) throws -> FileHandle {
        FileHandle(fileDescriptor: try createDescriptor(path), closeOnDealloc: true)
    }

    /// The same as `create`, as a descriptor the caller closes.
    public static func createDescriptor(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create \(path)") }
        // A umask can only take bits away (0400 with umask 0277): make it exactly 0600.
        _ = fchmod(fd, 0o600)
        return fd
    }

    /// Writes `data` into a new private file at `path`.
    public static func write(_ data: Data, to path: String) throws {
        let handle = try create(path)
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: data)
        } catch {
            unlink(path)
            throw SwiftFabError(.local, "cannot write \(path): \(error.localizedDescription)", hint: "check free space")
        }
    }

    /// A new folder, mode 0700, named `prefix` and six random characters,
    /// in `parent` (the temporary folder when nil). It is registered with
    /// `TemporaryPaths`: the caller removes it with `TemporaryPaths.remove`
    /// when done, and it goes at exit or interrupt otherwise.
    public static func makeTemporaryDirectory(prefix: String = "swiftfab-", in parent: String? = nil) throws -> String {
        let base = parent ?? NSTemporaryDirectory()
        var template = Array(((base.hasSuffix("/") ? base : base + "/") + prefix + "XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw failure("cannot create a private folder in \(base)") }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        TemporaryPaths.register(path)
        return path
    }

    /// Makes sure `path` is a folder only its owner can enter: created 0700
    /// (its parents as usual), or an existing one of ours narrowed to 0700.
    /// A symlink the user put there is followed and left as it is.
    public static func makeDirectory(_ path: String) throws {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        if mkdir(path, 0o700) == 0 { return }
        guard errno == EEXIST else { throw failure("cannot create \(path)") }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP { return }
            throw failure("cannot open \(path)")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 && info.st_uid == getuid() && info.st_mode & 0o077 != 0 { _ = fchmod(fd, 0o700) }
    }

    static func failure(_ what: String) -> SwiftFabError {
        SwiftFabError(.local, "\(what): \(String(cString: strerror(errno)))", hint: "check the folder's permissions and free space")
    }
}
