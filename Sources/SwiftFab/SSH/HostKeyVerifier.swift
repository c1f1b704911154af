import Foundation

/// Checks a server's host key against known_hosts, the way OpenSSH does,
/// and refuses with a message that says what to do.
struct HostKeyVerifier {
    let host: ResolvedHost
    let strict: StrictHostKeyChecking

    /// The name known_hosts records: `host`, or `[host]:port` off port 22.
    static func lookupName(_ hostname: String, port: Int) -> String {
        port == 22 ? hostname : "[\(hostname)]:\(port)"
    }

    var files: [String] { (host.userKnownHostsFiles + host.globalKnownHostsFiles).filter { $0 != "/dev/null" } }

    func knownTypes() -> [String] {
        (try? KnownHostsCache.shared.load(files).knownKeyTypes(host: host.hostname, port: host.port)) ?? []
    }

    func verify(type: String, blob: [UInt8]) throws {
        let knownHosts = try KnownHostsCache.shared.load(files)
        let fingerprint = KnownHosts.fingerprintSHA256(blob)
        let shown = "\(LibSSH2.displayName(ofKeyType: type)) key fingerprint is \(fingerprint)"
        let name = Self.lookupName(host.hostname, port: host.port)
        switch knownHosts.check(host: host.hostname, port: host.port, keyType: type, key: blob) {
        case .trusted:
            return
        case .revoked(let file, let line):
            throw SwiftFabError(.hostKey, host: host.alias,
                                "the host key of \(name) is REVOKED (\(file) line \(line)); refusing to connect. \(shown).",
                                hint: "talk to the server's administrator before trusting any key for this host")
        case .changed(let file, let line, _):
            throw SwiftFabError(.hostKey, host: host.alias, """
                WARNING: THE HOST KEY OF \(name) HAS CHANGED. Refusing to connect.
                  It no longer matches the key recorded in \(file) line \(line).
                  Someone may be intercepting the connection (man-in-the-middle), or the server was reinstalled.
                  The server now presents: \(shown).
                """,
                hint: "if you know why the key changed, remove the old entry (ssh-keygen -R \(Shell.quote(name)) -f \(Shell.quote(file))) and run: swiftfab trust \(Self.trustTarget(host))")
        case .unknown:
            if strict == .acceptNew || strict == .no {
                guard let file = host.userKnownHostsFiles.first(where: { $0 != "/dev/null" }) else { return }
                do {
                    try KnownHosts.record(host: host.hostname, port: host.port, keyType: type, key: blob, hashed: false, to: file)
                } catch let refusal as SSHName.Refusal {
                    // `no` connects whatever the key; `accept-new` trusts a key only once it is recorded.
                    if strict == .no {
                        StandardStreams.write("\(host.alias): \(refusal.message); connecting anyway (StrictHostKeyChecking no)\n", to: .stderr)
                        return
                    }
                    throw SwiftFabError(.hostKey, host: host.alias, """
                        the host key of \(name) is not known, and StrictHostKeyChecking accept-new \(refusal.message). Refusing to connect.
                          \(shown).
                        """,
                        hint: "set HostName to the host's own name or address, or check the fingerprint and add the key to known_hosts yourself")
                }
                StandardStreams.write("\(host.alias): added \(name) to \(file) (\(shown))\n", to: .stderr)
                return
            }
            throw SwiftFabError(.hostKey, host: host.alias, """
                the host key of \(name) is not known. Refusing to connect.
                  \(shown).
                """,
                hint: "check the fingerprint with the server's administrator, then run: swiftfab trust \(Self.trustTarget(host)) (or set StrictHostKeyChecking accept-new for this host in your ssh config)")
        }
    }

    /// The host as `swiftfab trust` takes it: with its port unless 22, so the
    /// key recorded is the one this connection meets.
    static func trustTarget(_ host: ResolvedHost) -> String {
        guard host.port != 22 else { return Shell.quote(host.alias) }
        return Shell.quote(host.alias.contains(":") ? "[\(host.alias)]:\(host.port)" : "\(host.alias):\(host.port)")
    }
}

/// known_hosts files parsed once per process and reused while they are
/// unchanged (same size and modification time): fan-out to many hosts reads
/// the same files for every connection.
final class KnownHostsCache: @unchecked Sendable {
    static let shared = KnownHostsCache()
    private let lock = NSLock()
    private var entries: [String: (stamp: String, parsed: KnownHosts)] = [:]

    func load(_ paths: [String]) throws -> KnownHosts {
        let key = paths.joined(separator: "\n")
        let stamp = paths.map { path -> String in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            return "\(attributes?[.size] ?? -1)@\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        }.joined(separator: ",")
        if let cached = lock.withLock({ entries[key] }), cached.stamp == stamp { return cached.parsed }
        let parsed = try KnownHosts(paths: paths)
        lock.withLock { entries[key] = (stamp, parsed) }
        return parsed
    }
}
