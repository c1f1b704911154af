import Foundation

/// What known_hosts says about a presented host key.
public enum HostKeyVerdict: Sendable, Equatable {
    case trusted(file: String, line: Int)
    /// Same key type known with a different key: possible man-in-the-middle.
    case changed(file: String, line: Int, knownKeyType: String)
    case revoked(file: String, line: Int)
    /// No entry for this host, or only entries of other key types (ssh would ask).
    case unknown
}

public enum KnownHostsError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    case unreadable(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read known hosts file \(path): \(reason)"
        case .writeFailed(let path, let reason): "cannot write known hosts file \(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}

/// The entries of one or more OpenSSH known_hosts files, in file order.
public struct KnownHosts: Sendable {
    public private(set) var entries: [KnownHostsEntry] = []
    /// Malformed lines that were skipped, as `file:line: reason`.
    public private(set) var warnings: [String] = []

    /// Missing files simply contribute nothing; a file that exists but can't be read is an error.
    public init(paths: [String]) throws(KnownHostsError) {
        for path in paths {
            do throws(SSHConfigError) {
                add(text: try SSHConfig.readText(path), path: path)
            } catch {
                guard case .unreadable(let path, let reason) = error else { continue }  // missing: no entries
                throw .unreadable(path: path, reason: reason)
            }
        }
    }

    public init(text: String, path: String = "<memory>") {
        add(text: text, path: path)
    }

    private mutating func add(text: String, path: String) {
        for (index, line) in ConfigText.lines(text).enumerated() {
            do {
                if let entry = try KnownHostsEntry(parsing: line, file: path, line: index + 1) {
                    entries.append(entry)
                }
            } catch {
                warnings.append("\(path):\(index + 1): \(error.message); line ignored")
            }
        }
    }

    /// OpenSSH's decision for a presented key. Precedence: revoked, then any exact
    /// match (trusted), then the first same-type mismatch (changed), else unknown.
    public func check(host: String, port: Int, keyType: String, key: [UInt8]) -> HostKeyVerdict {
        let name = Self.hostString(host: host, port: port)
        // The blob names the real key type; `keyType` may be a signature algorithm
        // such as rsa-sha2-512 for an ssh-rsa key.
        let type = Self.embeddedKeyType(key) ?? keyType
        var trusted: KnownHostsEntry?
        var changed: KnownHostsEntry?
        for entry in entries where entry.marker != .certAuthority && entry.matches(name) {
            if entry.marker == .revoked {
                if entry.key == key { return .revoked(file: entry.file, line: entry.line) }
                continue
            }
            guard entry.keyType == type else { continue }
            if entry.key == key {
                trusted = trusted ?? entry
            } else {
                changed = changed ?? entry
            }
        }
        if let e = trusted { return .trusted(file: e.file, line: e.line) }
        if let e = changed { return .changed(file: e.file, line: e.line, knownKeyType: e.keyType) }
        return .unknown
    }

    /// Key types known for the host, in file order, so the caller can prefer them
    /// when negotiating host key algorithms (avoids a spurious "unknown").
    public func knownKeyTypes(host: String, port: Int) -> [String] {
        let name = Self.hostString(host: host, port: port)
        var types: [String] = []
        for entry in entries where entry.marker == .none && entry.matches(name) && !types.contains(entry.keyType) {
            types.append(entry.keyType)
        }
        return types
    }

    /// How ssh names a host in known_hosts: bare for port 22, `[host]:port` otherwise.
    static func hostString(host: String, port: Int) -> String {
        let h = ConfigText.lowercased(host)
        return port == 22 || port == 0 ? h : "[\(h)]:\(port)"
    }

    /// The type name at the start of an SSH public key blob (uint32 length + name).
    static func embeddedKeyType(_ blob: [UInt8]) -> String? {
        guard blob.count >= 4 else { return nil }
        let length = blob[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, length <= 64, blob.count >= 4 + length else { return nil }
        return String(bytes: blob[4..<(4 + length)], encoding: .utf8)
    }
}
