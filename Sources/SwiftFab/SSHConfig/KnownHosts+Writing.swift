internal import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension KnownHosts {
    /// A known_hosts line as ssh writes it: `host keytype base64` with `[host]:port`
    /// for non-22 ports, or a `|1|salt|hash` host field when `hashed`.
    public static func entryLine(host: String, port: Int, keyType: String, key: [UInt8], hashed: Bool) -> String {
        let name = hostString(host: host, port: port)
        var field = name
        if hashed {
            var rng = SystemRandomNumberGenerator()
            let salt = (0..<Insecure.SHA1.byteCount).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
            field = "|1|\(Data(salt).base64EncodedString())|\(Data(hashHost(name, salt: salt)).base64EncodedString())"
        }
        return "\(field) \(keyType) \(Data(key).base64EncodedString())"
    }

    /// Appends the entry for `host`, unless known_hosts would read its name as
    /// more than that one host (`db.internal,*`, `*`, `!x`) or as two lines.
    public static func record(host: String, port: Int, keyType: String, key: [UInt8], hashed: Bool, to path: String) throws {
        try SSHName.checkKnownHostsName(host)
        try append(line: entryLine(host: host, port: port, keyType: keyType, key: key, hashed: hashed), to: path)
    }

    /// Appends one line, creating the file (0600) and its directory (0700) if needed.
    /// A missing final newline in the existing file is added first, so we never
    /// glue our entry onto someone else's last line.
    public static func append(line: String, to path: String) throws(KnownHostsError) {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw .writeFailed(path: path, reason: "cannot create \(directory): \(error.localizedDescription)")
            }
        }

        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .writeFailed(path: path, reason: errnoDescription()) }
        defer { close(fd) }

        var text = line.hasSuffix("\n") ? line : line + "\n"
        let size = lseek(fd, 0, SEEK_END)
        if size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, size - 1) == 1, last != UInt8(ascii: "\n") { text = "\n" + text }
        }
        // One write() with O_APPEND keeps concurrent appenders from interleaving lines.
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: errnoDescription())
            }
            written += n
        }
    }

    /// `SHA256:` + unpadded base64 of SHA-256 over the key blob, as `ssh-keygen -l` prints.
    public static func fingerprintSHA256(_ key: [UInt8]) -> String {
        let digest = Data(SHA256.hash(data: key)).base64EncodedString()
        return "SHA256:" + digest.prefix { $0 != "=" }
    }

    /// HMAC-SHA1 keyed with the salt over the host string: OpenSSH's HashKnownHosts.
    static func hashHost(_ name: String, salt: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: Array(name.utf8), using: SymmetricKey(data: salt)))
    }

    private static func errnoDescription() -> String {
        String(cString: strerror(errno))
    }
}
