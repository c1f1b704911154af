internal import Crypto
import Foundation

/// One line of an OpenSSH known_hosts file.
public struct KnownHostsEntry: Sendable, Equatable {
    public enum Marker: Sendable, Equatable {
        case none
        case revoked        // @revoked
        case certAuthority  // @cert-authority: parsed, but never used to trust a plain key
    }

    public enum Hosts: Sendable, Equatable {
        /// Comma-separated patterns: `host`, `[host]:port`, `*.example.com`, `!bad.example.com`.
        case patterns([String])
        /// `|1|base64(salt)|base64(HMAC-SHA1(salt, host))`.
        case hashed(salt: [UInt8], hash: [UInt8])
    }

    public var marker: Marker
    public var hosts: Hosts
    public var keyType: String
    public var key: [UInt8]
    public var comment: String?
    public var file: String
    public var line: Int

    public init(
        marker: Marker = .none, hosts: Hosts, keyType: String, key: [UInt8],
        comment: String? = nil, file: String, line: Int
    ) {
        self.marker = marker
        self.hosts = hosts
        self.keyType = keyType
        self.key = key
        self.comment = comment
        self.file = file
        self.line = line
    }

    struct ParseError: Error {
        var message: String
    }

    /// nil for blank and comment lines.
    init?(parsing text: Substring, file: String, line: Int) throws(ParseError) {
        var fields = ConfigText.fields(text).map(String.init)
        guard let first = fields.first, first.unicodeScalars.first != "#" else { return nil }

        var marker = Marker.none
        if first.unicodeScalars.first == "@" {
            switch first.lowercased() {
            case "@revoked": marker = .revoked
            case "@cert-authority": marker = .certAuthority
            default: throw ParseError(message: "unknown marker \(first)")
            }
            fields.removeFirst()
        }
        guard fields.count >= 3 else { throw ParseError(message: "expected hosts, key type and key") }

        // OpenSSH's base64 decoder skips the C whitespace the field may still hold (a CR, VT or FF).
        let base64 = String(String.UnicodeScalarView(fields[2].unicodeScalars.filter { !["\r", "\u{0B}", "\u{0C}"].contains($0) }))
        guard let key = Data(base64Encoded: base64).map(Array.init) else {
            throw ParseError(message: "key is not valid base64")
        }
        // ssh rejects lines whose blob says a different type than the type field.
        if let embedded = KnownHosts.embeddedKeyType(key), embedded != fields[1] {
            throw ParseError(message: "key type \(fields[1]) does not match the key (\(embedded))")
        }
        self.init(
            marker: marker,
            hosts: try Self.parseHosts(fields[0]),
            keyType: fields[1],
            key: key,
            comment: fields.count > 3 ? fields[3...].joined(separator: " ") : nil,
            file: file,
            line: line
        )
    }

    private static func parseHosts(_ field: String) throws(ParseError) -> Hosts {
        guard field.unicodeScalars.first == "|" else {
            return .patterns(HostPattern.commaList(field))
        }
        let parts = field.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[1] == "1",
              let salt = Data(base64Encoded: String(parts[2])), salt.count == Insecure.SHA1.byteCount,
              let hash = Data(base64Encoded: String(parts[3])), hash.count == Insecure.SHA1.byteCount
        else { throw ParseError(message: "malformed hashed host") }
        return .hashed(salt: Array(salt), hash: Array(hash))
    }

    /// `name` is the lowercased `host` or `[host]:port` string.
    func matches(_ name: String) -> Bool {
        switch hosts {
        case .patterns(let patterns):
            return HostPattern.matchList(name, patterns) == .matched
        case .hashed(let salt, let hash):
            return KnownHosts.hashHost(name, salt: salt) == hash
        }
    }
}
