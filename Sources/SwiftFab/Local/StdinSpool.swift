import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Input that several runs read whole (`exec --stdin` on many hosts), with
/// bounded memory: a pipe is copied once to a private temporary file, which
/// every run then reads at its own pace; a regular file is read in place.
public final class StdinSpool: @unchecked Sendable {
    public let source: StdinSource
    private let ownedFD: Int32?

    /// Reads `fd` to its end if it is not a regular file. The copy is made in
    /// a fresh 0700 directory, created 0600 with O_EXCL and O_NOFOLLOW, and
    /// unlinked at once: only this descriptor reaches it, and it is gone
    /// when the descriptor closes, even if swiftfab is killed.
    public init(reading fd: Int32) throws {
        var status = stat()
        if fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG {
            let position = lseek(fd, 0, SEEK_CUR)
            source = .file(fd, from: Int64(max(0, position)))
            ownedFD = nil
            return
        }
        let copy = try Self.privateFile()
        do {
            try Self.copy(from: fd, to: copy)
        } catch {
            close(copy)
            throw error
        }
        source = .file(copy)
        ownedFD = copy
    }

    deinit {
        if let ownedFD { close(ownedFD) }
    }

    private static func privateFile() throws -> Int32 {
        var template = Array((FileManager.default.temporaryDirectory.path + "/swiftfab-stdin-XXXXXX").utf8CString)
        guard let directory = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!).map { String(cString: $0) } }) else {
            throw failure("cannot create a temporary directory for the input")
        }
        defer { rmdir(directory) }
        let path = directory + "/stdin"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create \(path)") }
        unlink(path)
        return fd
    }

    private static func copy(from input: Int32, to output: Int32) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count == 0 { return }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read the input")
            }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("cannot store the input in a temporary file")
                }
                offset += written
            }
        }
    }

    private static func failure(_ what: String) -> SwiftFabError {
        SwiftFabError(.local, "\(what): \(String(cString: strerror(errno)))",
                      hint: "the input is kept in a temporary file while it goes to several hosts; check TMPDIR's space and permissions")
    }
}
