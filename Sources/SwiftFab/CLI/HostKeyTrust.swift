import Foundation

/// `swiftfab trust`: shows a host's key fingerprint and records it in
/// known_hosts once the person confirms (or `--yes`). The same flow for the
/// builtin command and for a Deployfile's hosts (which bring their port,
/// user and the environment's ssh config).
public struct HostKeyTrust: Sendable {
    /// As the person typed it (messages name the host this way).
    public var shown: String
    /// What to scan: `[user@]host[:port]`.
    public var target: String
    public var options: ConnectionOptions
    public var yes = false
    public var hashed = false

    public init(shown: String, target: String, options: ConnectionOptions, yes: Bool = false, hashed: Bool = false) {
        self.shown = shown
        self.target = target
        self.options = options
        self.yes = yes
        self.hashed = hashed
    }

    /// 0 trusted (already, or now), 1 not added (changed key, refused), 64 a name known_hosts cannot hold.
    public func run() async -> Int32 {
        let scan: HostKeyScan
        do {
            scan = try await HostKeyScan.scan(target, config: try options.loadConfig(), options: options)
        } catch let error as SwiftFabError {
            warn(error.description)
            // A HostName from the config that known_hosts could not hold: found before connecting.
            return error.kind == .invalidInput ? 64 : 1
        } catch {
            warn("\(error)")
            return 1
        }
        let fingerprint = "\(scan.keyName) key fingerprint is \(scan.fingerprint)"
        switch scan.verdict {
        case .trusted(let file, let line):
            print("\(shown): \(scan.knownHostsName) is already trusted (\(file) line \(line)). \(fingerprint).")
            return 0
        case .changed(let file, let line, _), .revoked(let file, let line):
            warn("""
                \(shown): \(scan.knownHostsName) presents a key that differs from \(file) line \(line). \(fingerprint).
                  Not adding it. If the change is expected, remove the old entry first: ssh-keygen -R \(Shell.quote(scan.knownHostsName)) -f \(Shell.quote(file))
                """)
            return 1
        case .unknown:
            print("\(shown): \(scan.knownHostsName) presents an unknown key. \(fingerprint).")
        }
        guard let file = scan.knownHostsFile else {
            warn("\(shown): UserKnownHostsFile is none in your ssh config; nowhere to record the key")
            return 1
        }
        guard yes || TerminalPrompt.confirm("Add it to \(file)?") else {
            warn("not added (pass --yes to add without asking)")
            return 1
        }
        do {
            try scan.record(hashed: hashed)
        } catch {
            warn("\(error)")
            return 1
        }
        print("\(shown): added \(scan.knownHostsName) to \(file).")
        return 0
    }

    private func warn(_ text: String) { StandardStreams.write("swiftfab: " + text + "\n", to: .stderr) }
}
