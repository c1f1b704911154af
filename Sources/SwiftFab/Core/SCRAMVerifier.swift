internal import Crypto
import Foundation

/// A password as PostgreSQL stores it for SCRAM-SHA-256 logins (RFC 5802,
/// RFC 7677): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`,
/// computed here, as psql's `\password` does, so that the password itself
/// never reaches the server, where a log or a statistics view could keep it.
public enum SCRAMVerifier {
    /// PostgreSQL's own choices: 16 random bytes of salt, 4096 iterations.
    public static func make(_ password: Secret, salt: [UInt8]? = nil, iterations: Int = 4096) -> Secret? {
        guard let prepared = prepared(password.reveal()) else { return nil }
        let salt = salt ?? (0..<16).map { _ in UInt8.random(in: .min ... .max) }
        return Secret(text(prepared, salt: salt, iterations: iterations))
    }

    /// The password as SASLprep leaves it, which the server applies before
    /// hashing: ASCII is left as it is (control characters make SASLprep
    /// fail, and the server then uses the bytes as they are: the same).
    /// Beyond ASCII SASLprep maps and normalizes; nil: not computed here.
    static func prepared(_ password: String) -> [UInt8]? {
        let bytes = Array(password.utf8)
        return bytes.allSatisfy({ $0 < 0x80 }) ? bytes : nil
    }

    static func text(_ password: [UInt8], salt: [UInt8], iterations: Int) -> String {
        let key = SymmetricKey(data: password)
        // PBKDF2-HMAC-SHA-256, one block of 32 bytes.
        var block = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var salted = block
        for _ in 1..<max(iterations, 1) {
            block = Array(HMAC<SHA256>.authenticationCode(for: block, using: key))
            for index in salted.indices { salted[index] ^= block[index] }
        }
        let saltedKey = SymmetricKey(data: salted)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: saltedKey))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: saltedKey))
        func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
        return "SCRAM-SHA-256$\(iterations):\(base64(salt))$\(base64(storedKey)):\(base64(serverKey))"
    }
}
