import Foundation

/// What we can tell about a private key file without decrypting it:
/// its key type (when visible) and whether a passphrase protects it.
struct KeyFile {
    let path: String
    let type: String?
    let encrypted: Bool

    /// Reads and inspects `path`; nil when the file does not exist.
    static func inspect(_ path: String) -> KeyFile? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        if text.contains("BEGIN OPENSSH PRIVATE KEY") {
            return inspectOpenSSH(path: path, text: text) ?? KeyFile(path: path, type: publicKeyType(path), encrypted: false)
        }
        let encrypted = text.contains("Proc-Type: 4,ENCRYPTED") || text.contains("BEGIN ENCRYPTED PRIVATE KEY")
        var type = publicKeyType(path)
        if text.contains("BEGIN RSA PRIVATE KEY") { type = "ssh-rsa" }
        if text.contains("BEGIN EC PRIVATE KEY") { type = type ?? "ecdsa-sha2-nistp256" }
        if text.contains("BEGIN DSA PRIVATE KEY") { type = "ssh-dss" }
        return KeyFile(path: path, type: type, encrypted: encrypted)
    }

    /// The "openssh-key-v1" container keeps the cipher name and the public key
    /// in clear text, so type and encryption are readable without a passphrase.
    private static func inspectOpenSSH(path: String, text: String) -> KeyFile? {
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { return nil }
        var reader = SSHWireReader(bytes: [UInt8](data))
        guard reader.readMagic("openssh-key-v1\0"),
              let cipher = reader.readString(),
              reader.readString() != nil, // kdf name
              reader.readString() != nil, // kdf options
              let count = reader.readUInt32(), count >= 1,
              let publicBlob = reader.readString()
        else { return nil }
        return KeyFile(path: path, type: LibSSH2.keyType(ofBlob: publicBlob),
                       encrypted: String(decoding: cipher, as: UTF8.self) != "none")
    }

    /// The key type named in `path.pub`, if there is one.
    static func publicKeyType(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path + ".pub", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.map(String.init)
    }

    /// The public key blob from `path.pub` (to match agent identities).
    static func publicKeyBlob(_ path: String) -> [UInt8]? {
        guard let text = try? String(contentsOfFile: path + ".pub", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let data = Data(base64Encoded: String(fields[1])) else { return nil }
        return [UInt8](data)
    }
}

/// Reads SSH wire-format fields (RFC 4251): uint32 lengths, then bytes.
struct SSHWireReader {
    private let bytes: [UInt8]
    private var offset = 0
    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func readMagic(_ magic: String) -> Bool {
        let expected = Array(magic.utf8)
        guard bytes.count >= offset + expected.count, Array(bytes[offset..<offset + expected.count]) == expected else { return false }
        offset += expected.count
        return true
    }

    mutating func readUInt32() -> UInt32? {
        guard bytes.count >= offset + 4 else { return nil }
        let value = bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        offset += 4
        return value
    }

    mutating func readString() -> [UInt8]? {
        guard let length = readUInt32().map(Int.init), bytes.count >= offset + length else { return nil }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }
}
