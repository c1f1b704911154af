internal import CLibSSH2
import Foundation

/// Process-wide libssh2 facts and set-up.
enum LibSSH2 {
    /// libssh2_init must run once before any session, from one thread.
    static let initialized: Bool = {
        swiftfab_keep_crypto_until_exit()
        return libssh2_init(0) == 0
    }()

    static var version: String {
        libssh2_version(0).map { String(cString: $0) } ?? "unknown"
    }

    /// libssh2 before 1.11 signs only with ssh-rsa (SHA-1), which OpenSSH 8.8
    /// and later refuse for user keys.
    static var canSignRSASHA2: Bool {
        libssh2_version(0x010B00) != nil
    }

    /// The key type name at the start of an SSH public key blob ("ssh-ed25519").
    static func keyType(ofBlob blob: [UInt8]) -> String? {
        guard blob.count >= 4 else { return nil }
        let length = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard length > 0, blob.count >= 4 + length else { return nil }
        return String(decoding: blob[4..<(4 + length)], as: UTF8.self)
    }

    /// How OpenSSH names a key type in its messages ("ED25519", "ECDSA").
    static func displayName(ofKeyType type: String) -> String {
        switch type {
        case "ssh-ed25519", "sk-ssh-ed25519@openssh.com": return "ED25519"
        case let t where t.contains("ecdsa"): return "ECDSA"
        case "ssh-rsa": return "RSA"
        case "ssh-dss": return "DSA"
        default: return type
        }
    }
}
