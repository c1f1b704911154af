internal import Crypto
import Foundation

/// Checksums of local files, read in 1 MiB pieces (a backup may be large).
public enum FileDigest {
    /// The file's SHA-256 as 64 lowercase hex digits, as `sha256sum` prints it.
    public static func sha256(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SwiftFabError(.local, "cannot read \(path) to compute its sha256")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
