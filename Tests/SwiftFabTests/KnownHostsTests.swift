import Foundation
import Testing
@testable import SwiftFab

/// An SSH public key blob: string(type) + string(body). Real enough for parsing and
/// comparison; tests that feed OpenSSH use keys made by ssh-keygen instead.
private func blob(_ type: String, _ seed: UInt8) -> [UInt8] {
    func sshString(_ bytes: [UInt8]) -> [UInt8] {
        let n = UInt32(bytes.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
    }
    return sshString(Array(type.utf8)) + sshString([UInt8](repeating: seed, count: 32))
}

private func b64(_ key: [UInt8]) -> String { Data(key).base64EncodedString() }

private let keyA = blob("ssh-ed25519", 1)
private let keyB = blob("ssh-ed25519", 2)
private let ecdsa = blob("ecdsa-sha2-nistp256", 3)
private let rsa = blob("ssh-rsa", 4)

private func withTempDir<T>(_ body: (String) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("knownhosts-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// Runs ssh-keygen; returns exit status and stdout.
private func sshKeygen(_ args: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
    process.arguments = args
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A real ed25519 key from ssh-keygen: (type, blob, path of the .pub file).
private func generatedKey(in dir: String) throws -> (type: String, key: [UInt8], pubPath: String) {
    let path = "\(dir)/id_test"
    let result = try sshKeygen(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", path])
    try #require(result.status == 0)
    let pub = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
    let key = try #require(Data(base64Encoded: String(pub[1])))
    return (String(pub[0]), Array(key), path + ".pub")
}

@Suite struct KnownHostsTests {
    @Test func plainHostList() {
        let kh = KnownHosts(text: """
        # comment

        example.com,10.0.0.1 ssh-ed25519 \(b64(keyA)) some comment
        """, path: "kh")
        #expect(kh.entries.count == 1)
        #expect(kh.entries[0].comment == "some comment")
        #expect(kh.check(host: "example.com", port: 22, keyType: "ssh-ed25519", key: keyA) == .trusted(file: "kh", line: 3))
        #expect(kh.check(host: "EXAMPLE.com", port: 22, keyType: "ssh-ed25519", key: keyA) == .trusted(file: "kh", line: 3))
        #expect(kh.check(host: "10.0.0.1", port: 22, keyType: "ssh-ed25519", key: keyA) == .trusted(file: "kh", line: 3))
        #expect(kh.check(host: "other.com", port: 22, keyType: "ssh-ed25519", key: keyA) == .unknown)
    }

    @Test func bracketedPortVersusPort22() {
        let kh = KnownHosts(text: """
        [example.com]:2222 ssh-ed25519 \(b64(keyA))
        example.com ssh-ed25519 \(b64(keyB))
        """, path: "kh")
        #expect(kh.check(host: "example.com", port: 2222, keyType: "ssh-ed25519", key: keyA) == .trusted(file: "kh", line: 1))
        #expect(kh.check(host: "example.com", port: 22, keyType: "ssh-ed25519", key: keyB) == .trusted(file: "kh", line: 2))
        #expect(kh.check(host: "example.com", port: 22, keyType: "ssh-ed25519", key: keyA)
            == .changed(file: "kh", line: 2, knownKeyType: "ssh-ed25519"))
        #expect(kh.check(host: "example.com", port: 2200, keyType: "ssh-ed25519", key: keyA) == .unknown)
    }

    @Test func patternsAndNegation() {
        let kh = KnownHosts(text: """
        *.example.com,!secret.example.com ssh-ed25519 \(b64(keyA))
        db?.internal ssh-ed25519 \(b64(keyA))
        [*.lab]:2222 ssh-ed25519 \(b64(keyA))
        """, path: "kh")
        func verdict(_ host: String, _ port: Int = 22) -> HostKeyVerdict {
            kh.check(host: host, port: port, keyType: "ssh-ed25519", key: keyA)
        }
        #expect(verdict("www.example.com") == .trusted(file: "kh", line: 1))
        #expect(verdict("secret.example.com") == .unknown)
        #expect(verdict("db1.internal") == .trusted(file: "kh", line: 2))
        #expect(verdict("db12.internal") == .unknown)
        #expect(verdict("box.lab", 2222) == .trusted(file: "kh", line: 3))
        #expect(verdict("box.lab") == .unknown)
    }

    @Test func changedKeyReportsFirstMismatchFileAndLine() throws {
        try withTempDir { dir in
            let one = "\(dir)/one", two = "\(dir)/two"
            try "other ssh-ed25519 \(b64(keyA))\n".write(toFile: one, atomically: true, encoding: .utf8)
            try """
            # header
            other ssh-ed25519 \(b64(keyA))
            web ssh-ed25519 \(b64(keyA))
            web ssh-ed25519 \(b64(keyA))
            """.write(toFile: two, atomically: true, encoding: .utf8)
            let kh = try KnownHosts(paths: [one, "\(dir)/missing", two])
            #expect(kh.check(host: "web", port: 22, keyType: "ssh-ed25519", key: keyB)
                == .changed(file: two, line: 3, knownKeyType: "ssh-ed25519"))
            #expect(kh.check(host: "other", port: 22, keyType: "ssh-ed25519", key: keyA) == .trusted(file: one, line: 1))
        }
    }

    @Test func matchingEntryWinsOverMismatch() {
        let kh = KnownHosts(text: """
        web ssh-ed25519 \(b64(keyB))
        web ssh-ed25519 \(b64(keyA))
        """, path: "kh")
        #expect(kh.check(host: "web", port: 22, keyType: "ssh-ed25519", key: keyA) == .trusted(file: "kh", line: 2))
    }

    @Test func revokedKey() {
        let kh = KnownHosts(text: """
        web ssh-ed25519 \(b64(keyA))
        @revoked * ssh-ed25519 \(b64(keyA))
        @revoked * ssh-ed25519 \(b64(keyB))
        other ssh-ed25519 \(b64(keyA))
        """, path: "kh")
        #expect(kh.check(host: "web", port: 22, keyType: "ssh-ed25519", key: keyA) == .revoked(file: "kh", line: 2))
        #expect(kh.check(host: "new", port: 22, keyType: "ssh-ed25519", key: keyB) == .revoked(file: "kh", line: 3))
        #expect(kh.check(host: "new", port: 22, keyType: "ssh-rsa", key: rsa) == .unknown)
    }

    @Test func otherKeyTypeOnlyIsUnknown() {
        let kh = KnownHosts(text: """
        web ecdsa-sha2-nistp256 \(b64(ecdsa))
        web ssh-rsa \(b64(rsa))
        web ecdsa-sha2-nistp256 \(b64(ecdsa))
        """, path: "kh")
        #expect(kh.check(host: "web", port: 22, keyType: "ssh-ed25519", key: keyA) == .unknown)
        #expect(kh.knownKeyTypes(host: "web", port: 22) == ["ecdsa-sha2-nistp256", "ssh-rsa"])
        #expect(kh.knownKeyTypes(host: "web", port: 2222) == [])
        // The RSA signature algorithm names still mean an ssh-rsa key.
        #expect(kh.check(host: "web", port: 22, keyType: "rsa-sha2-512", key: rsa) == .trusted(file: "kh", line: 2))
    }

    @Test func certAuthorityLinesAreParsedButNotTrusted() {
        let kh = KnownHosts(text: "@cert-authority *.example.com ssh-ed25519 \(b64(keyA))\n", path: "kh")
        #expect(kh.entries.first?.marker == .certAuthority)
        #expect(kh.check(host: "a.example.com", port: 22, keyType: "ssh-ed25519", key: keyA) == .unknown)
        #expect(kh.knownKeyTypes(host: "a.example.com", port: 22) == [])
    }

    @Test func malformedLinesAreSkippedKeepingLineNumbers() {
        let kh = KnownHosts(text: """
        broken-line-without-key
        bad ssh-ed25519 !!!notbase64
        @weird host ssh-ed25519 \(b64(keyA))
        mismatch ssh-rsa \(b64(keyA))
        |1|bad|hash ssh-ed25519 \(b64(keyA))
        good ssh-ed25519 \(b64(keyA))
        """, path: "kh")
        #expect(kh.warnings.count == 5)
        #expect(kh.entries.map(\.line) == [6])
        #expect(kh.check(host: "good", port: 22, keyType: "ssh-ed25519", key: keyA) == .trusted(file: "kh", line: 6))
    }

    @Test func hashedEntryWrittenByOpenSSHMatches() throws {
        try withTempDir { dir in
            let path = "\(dir)/known_hosts"
            try """
            example.com ssh-ed25519 \(b64(keyA))
            [example.com]:2222 ssh-ed25519 \(b64(keyB))

            """.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try sshKeygen(["-H", "-f", path])
            try #require(result.status == 0)

            let kh = try KnownHosts(paths: [path])
            #expect(kh.entries.count == 2)
            #expect(kh.entries.allSatisfy { if case .hashed = $0.hosts { true } else { false } })
            #expect(kh.check(host: "example.com", port: 22, keyType: "ssh-ed25519", key: keyA) == .trusted(file: path, line: 1))
            #expect(kh.check(host: "example.com", port: 2222, keyType: "ssh-ed25519", key: keyB) == .trusted(file: path, line: 2))
            #expect(kh.check(host: "example.org", port: 22, keyType: "ssh-ed25519", key: keyA) == .unknown)
        }
    }

    @Test func hashedLineWeWriteIsFoundByOpenSSH() throws {
        try withTempDir { dir in
            let key = try generatedKey(in: dir)
            let path = "\(dir)/ssh/known_hosts"
            try KnownHosts.append(line: KnownHosts.entryLine(
                host: "Example.com", port: 22, keyType: key.type, key: key.key, hashed: true), to: path)
            try KnownHosts.append(line: KnownHosts.entryLine(
                host: "example.com", port: 2222, keyType: key.type, key: key.key, hashed: true), to: path)

            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!text.contains("example.com"))
            #expect(text.hasPrefix("|1|"))

            let found = try sshKeygen(["-F", "example.com", "-f", path])
            #expect(found.status == 0)
            #expect(found.output.contains("found: line 1"))
            let foundPort = try sshKeygen(["-F", "[example.com]:2222", "-f", path])
            #expect(foundPort.status == 0)
            #expect(foundPort.output.contains("found: line 2"))
            let notFound = try sshKeygen(["-F", "example.org", "-f", path])
            #expect(notFound.status != 0)

            let kh = try KnownHosts(paths: [path])
            #expect(kh.check(host: "example.com", port: 2222, keyType: key.type, key: key.key) == .trusted(file: path, line: 2))
        }
    }

    @Test func entryLineFormats() {
        #expect(KnownHosts.entryLine(host: "Example.com", port: 22, keyType: "ssh-ed25519", key: keyA, hashed: false)
            == "example.com ssh-ed25519 \(b64(keyA))")
        #expect(KnownHosts.entryLine(host: "::1", port: 2222, keyType: "ssh-ed25519", key: keyA, hashed: false)
            == "[::1]:2222 ssh-ed25519 \(b64(keyA))")
        // Fresh salt each time: two hashed lines for the same host differ.
        let h1 = KnownHosts.entryLine(host: "h", port: 22, keyType: "ssh-ed25519", key: keyA, hashed: true)
        let h2 = KnownHosts.entryLine(host: "h", port: 22, keyType: "ssh-ed25519", key: keyA, hashed: true)
        #expect(h1 != h2)
        #expect(KnownHosts(text: h1 + "\n" + h2).check(host: "h", port: 22, keyType: "ssh-ed25519", key: keyA)
            == .trusted(file: "<memory>", line: 1))
    }

    @Test func fingerprintMatchesSSHKeygen() throws {
        try withTempDir { dir in
            let key = try generatedKey(in: dir)
            let listed = try sshKeygen(["-l", "-E", "sha256", "-f", key.pubPath])
            try #require(listed.status == 0)
            // "256 SHA256:xxxx test (ED25519)"
            let expected = String(listed.output.split(separator: " ")[1])
            #expect(expected.hasPrefix("SHA256:"))
            #expect(KnownHosts.fingerprintSHA256(key.key) == expected)
        }
    }

    @Test func appendCreatesFilesWithPrivateModesAndFixesMissingNewline() throws {
        try withTempDir { dir in
            let path = "\(dir)/new/.ssh/known_hosts"
            try KnownHosts.append(line: "one ssh-ed25519 \(b64(keyA))", to: path)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let dirAttributes = try FileManager.default.attributesOfItem(atPath: "\(dir)/new/.ssh")
            #expect((dirAttributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)

            // Someone else's file without a trailing newline.
            let other = "\(dir)/other"
            try "two ssh-ed25519 \(b64(keyA))".write(toFile: other, atomically: true, encoding: .utf8)
            try KnownHosts.append(line: "three ssh-ed25519 \(b64(keyB))", to: other)
            let kh = try KnownHosts(paths: [path, other])
            #expect(kh.entries.map(\.line) == [1, 1, 2])
            #expect(kh.check(host: "three", port: 22, keyType: "ssh-ed25519", key: keyB) == .trusted(file: other, line: 2))
            #expect(try String(contentsOfFile: other, encoding: .utf8).hasSuffix("\n"))
        }
    }

    @Test func missingFilesAreEmptyButUnreadableFilesFail() throws {
        try withTempDir { dir in
            let kh = try KnownHosts(paths: ["\(dir)/does-not-exist"])
            #expect(kh.entries.isEmpty)
            #expect(throws: KnownHostsError.self) { try KnownHosts(paths: [dir]) }  // a directory
        }
    }
}
