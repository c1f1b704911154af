internal import CLibSSH2
import Foundation

/// Authenticates a session in OpenSSH's order: agent keys, identity files
/// (asking for passphrases where needed), then a password where configured.
/// Keeps a record of each attempt so a failure says exactly what was tried.
struct Authenticator {
    let session: SSHSession
    let user: String
    let endpoint: String
    let host: ResolvedHost
    let options: ConnectionOptions

    private final class Record {
        var attempts: [String] = []
        var refusedRSA: [String] = []
    }

    func authenticate() throws {
        session.operation = "authenticating"
        let methods = try serverMethods()
        if libssh2_userauth_authenticated(session.raw) != 0 { return }
        Log.ssh.debug("auth methods", metadata: ["host": "\(host.alias)", "methods": "\(methods.joined(separator: ","))"])
        let record = Record()
        if methods.contains("publickey") {
            if try agentAuth(record) { return }
            if try fileAuth(record) { return }
        }
        if methods.contains("password"), let password = options.password, host.passwordAuthentication || options.allowPassword {
            let ok = try attempt { libssh2_userauth_password_ex(session.raw, user, UInt32(user.utf8.count), password.reveal(),
                                                                 UInt32(password.reveal().utf8.count), nil) }
            if ok { return }
            record.attempts.append("password (refused)")
        }
        throw failure(record, methods: methods)
    }

    /// Asks the server which methods it takes (this also tries "none").
    private func serverMethods() throws -> [String] {
        while true {
            if let list = libssh2_userauth_list(session.raw, user, UInt32(user.utf8.count)) {
                return String(cString: list).split(separator: ",").map(String.init)
            }
            if libssh2_userauth_authenticated(session.raw) != 0 { return [] }
            guard libssh2_session_last_errno(session.raw) == LIBSSH2_ERROR_EAGAIN else { throw session.failure("asking for auth methods") }
            try session.waitSocket()
        }
    }

    /// Runs one auth call; true when accepted, false when refused.
    private func attempt(_ body: () -> Int32) throws -> Bool {
        while true {
            let rc = body()
            if rc == 0 { return true }
            if rc == LIBSSH2_ERROR_EAGAIN { try session.waitSocket(); continue }
            if rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED
                || rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED || rc == LIBSSH2_ERROR_AGENT_PROTOCOL {
                return false
            }
            throw session.failure("authenticating")
        }
    }

    private var identityFiles: [String] {
        if !host.identityFiles.isEmpty { return host.identityFiles }
        let home = options.environment["HOME"] ?? NSHomeDirectory()
        return ["id_ed25519", "id_ecdsa", "id_rsa"].map { "\(home)/.ssh/\($0)" }
    }

    private func agentAuth(_ record: Record) throws -> Bool {
        guard options.useAgent, let socketPath = options.environment["SSH_AUTH_SOCK"], !socketPath.isEmpty,
              let agent = libssh2_agent_init(session.raw) else { return false }
        defer { libssh2_agent_free(agent) }
        libssh2_agent_set_identity_path(agent, socketPath)
        guard libssh2_agent_connect(agent) == 0 else {
            record.attempts.append("ssh-agent (cannot connect to \(socketPath))")
            return false
        }
        defer { libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else { return false }
        // IdentitiesOnly: offer only agent keys that match a configured file.
        let allowed = host.identitiesOnly ? Set(host.identityFiles.compactMap(KeyFile.publicKeyBlob)) : nil
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        var offered = 0
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let key = identity {
            previous = key
            let blob = Array(UnsafeBufferPointer(start: key.pointee.blob, count: Int(key.pointee.blob_len)))
            if let allowed, !allowed.contains(blob) { continue }
            offered += 1
            let type = LibSSH2.keyType(ofBlob: blob) ?? "key"
            if try attempt({ libssh2_agent_userauth(agent, user, key) }) { return true }
            let comment = key.pointee.comment.map { String(cString: $0) } ?? ""
            if type == "ssh-rsa" { record.refusedRSA.append("agent key \(comment)") }
        }
        record.attempts.append("ssh-agent (\(offered) key\(offered == 1 ? "" : "s") refused)")
        return false
    }

    private func fileAuth(_ record: Record) throws -> Bool {
        for path in identityFiles {
            guard let key = KeyFile.inspect(path) else {
                if !host.identityFiles.isEmpty { record.attempts.append("\(path) (no such file)") }
                continue
            }
            var passphrase: Secret?
            if key.encrypted {
                passphrase = try passphraseFor(path)
                guard passphrase != nil else {
                    record.attempts.append("\(path) (passphrase-protected; no passphrase given)")
                    continue
                }
            }
            // For an encrypted key, no .pub: libssh2 then derives the public key by
            // decrypting first, so a wrong passphrase is reported as such.
            let publicPath = !key.encrypted && FileManager.default.fileExists(atPath: path + ".pub") ? path + ".pub" : nil
            var accepted = false
            var rc: Int32 = 0
            while true {
                rc = libssh2_userauth_publickey_fromfile_ex(session.raw, user, UInt32(user.utf8.count), publicPath, path,
                                                            passphrase?.reveal())
                if rc == LIBSSH2_ERROR_EAGAIN { try session.waitSocket(); continue }
                accepted = rc == 0
                break
            }
            if accepted { return true }
            if rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_METHOD_NONE {
                let why = key.encrypted ? "cannot decrypt it: wrong passphrase?" : "cannot read it as a private key"
                record.attempts.append("\(path) (\(why))")
            } else if rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED {
                record.attempts.append("\(path) (refused)")
                if key.type == "ssh-rsa" { record.refusedRSA.append(path) }
            } else {
                throw session.failure("authenticating with \(path)")
            }
        }
        return false
    }

    /// A passphrase from the configured environment variable, or asked on the terminal.
    private func passphraseFor(_ path: String) throws -> Secret? {
        if let name = options.passphraseVariable, let value = options.environment[name] { return Secret(value) }
        guard options.interactive else { return nil }
        return TerminalPrompt.readSecret(prompt: "Enter passphrase for key '\(path)': ")
    }

    private func failure(_ record: Record, methods: [String]) -> SwiftFabError {
        let tried = record.attempts.isEmpty ? "no key found (no agent, no identity file)" : record.attempts.joined(separator: ", ")
        if !record.refusedRSA.isEmpty && !LibSSH2.canSignRSASHA2 {
            return SwiftFabError(.authentication, host: host.alias,
                                 "the server refused the RSA key \(record.refusedRSA[0]) for \(user)@\(endpoint): this libssh2 (\(LibSSH2.version)) can sign RSA keys only with ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse",
                                 hint: "use an ed25519 key (ssh-keygen -t ed25519, then add it to the server's authorized_keys), or install libssh2 1.11 or later")
        }
        var hint = "make sure your public key is in ~\(user)/.ssh/authorized_keys on the host, or name the right key with IdentityFile in your ssh config"
        if record.attempts.contains(where: { $0.contains("passphrase-protected") }) {
            hint = "give the key's passphrase: run on a terminal, or put it in an environment variable and pass --passphrase-env NAME"
        }
        return SwiftFabError(.authentication, host: host.alias,
                             "permission denied for \(user)@\(endpoint) (the server accepts: \(methods.joined(separator: ", "))). Tried: \(tried)",
                             hint: hint)
    }
}
