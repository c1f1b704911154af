import Foundation
import SwiftFab

/// HTTPS for an app's nginx site: where its certificate comes from, and
/// where nginx serves it. System paths are settings with a real server's
/// defaults (Debian 12 / Ubuntu), so a test host can keep them in its own folders.
///
/// nginx reads the certificate at each TLS handshake (its path is given
/// through a variable), from one file that holds the chain and the key: a
/// renewal replaces that file with a rename, and nginx is never reloaded for
/// it, so no connection, keep-alive or new, is dropped.
public struct TLSConfig: Sendable {
    public enum Source: Sendable {
        /// Asked for from an ACME CA with certbot (HTTP-01 through the site's webroot), renewed by certbot's timer.
        case acme(ACME)
        /// The user's own files, already on the host; provision installs them for nginx.
        case files(certificate: String, key: String)
    }

    public var source: Source
    /// nginx's `listen` value for HTTPS: `443`, `127.0.0.1:8443`.
    public var listen: String
    /// Where provision installs `<app>.pem` (chain and key, root and `NginxSite.group`, 0640, what nginx reads)
    /// and `<app>.crt` (the chain alone, 0644, what doctor reads).
    public var certificateDir: String
    /// doctor warns when the certificate expires within this many days, and fails within `failDays`.
    public var warnDays: Int
    public var failDays: Int

    public init(source: Source, listen: String = "443", certificateDir: String = "/etc/swiftfab/tls",
                warnDays: Int = 21, failDays: Int = 3) {
        self.source = source
        self.listen = listen
        self.certificateDir = certificateDir
        self.warnDays = warnDays
        self.failDays = failDays
    }

    /// A certificate from an ACME CA: Let's Encrypt by default, or another
    /// `directory` (a private or test CA, whose own TLS certificate
    /// `caBundle` on the host lets certbot trust).
    public static func acme(email: String, directory: URL = ACME.letsEncrypt, caBundle: String? = nil) -> TLSConfig {
        TLSConfig(source: .acme(ACME(email: email, directory: directory, caBundle: caBundle)))
    }

    /// The user's own certificate (with its chain) and key, already on the host.
    public static func files(certificate: String, key: String) -> TLSConfig {
        TLSConfig(source: .files(certificate: certificate, key: key))
    }

    /// The ACME settings, when the certificate comes from a CA.
    public var acme: ACME? {
        get { if case .acme(let acme) = source { return acme } else { return nil } }
        set { if let newValue { source = .acme(newValue) } }
    }

    /// The port of `listen` (`443` when it names none).
    public var port: Int { Self.split(listen).port ?? 443 }

    /// Where the server itself reaches the HTTPS site: `listen`'s address
    /// (an IPv6 one in brackets), or the loopback address when `listen` names
    /// none or every address (`*`, `0.0.0.0`, `[::]`).
    public var localAddress: String {
        switch Self.split(listen).address {
        case nil, "*", "0.0.0.0": return "127.0.0.1"
        case "::"?: return "[::1]"
        case let address? where address.contains(":"): return "[" + address + "]"
        case let address?: return address
        }
    }

    /// nginx's `listen` forms: `443`, `127.0.0.1`, `127.0.0.1:8443`, `*:443`, `[::]:443`, `[::1]`.
    static func split(_ listen: String) -> (address: String?, port: Int?) {
        let value = listen.split(separator: " ").first.map(String.init) ?? ""
        if value.hasPrefix("["), let close = value.firstIndex(of: "]") {
            let address = String(value[value.index(after: value.startIndex)..<close])
            let rest = value[value.index(after: close)...]
            return (address, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        }
        if let colon = value.lastIndex(of: ":") {
            return (String(value[..<colon]), Int(value[value.index(after: colon)...]))
        }
        if let port = Int(value) { return (nil, port) }
        return (value.isEmpty ? nil : value, nil)
    }
}

/// certbot's settings: `certonly --webroot` (certbot never edits nginx's
/// files), its folders, and the webroot nginx serves
/// `/.well-known/acme-challenge/` from.
public struct ACME: Sendable {
    public static let letsEncrypt = URL(string: "https://acme-v02.api.letsencrypt.org/directory")!

    /// The account's contact: the CA writes there about expiry and problems.
    public var email: String
    /// The CA's ACME directory URL.
    public var directory: URL
    /// A PEM file on the host certbot trusts for the CA's own HTTPS (a private or test CA); nil: the system's.
    public var caBundle: String?
    public var certbot: String
    public var configDir: String
    public var workDir: String
    public var logsDir: String
    /// Served on port 80 at `/.well-known/acme-challenge/`; certbot writes its answers there.
    public var webroot: String
    /// Renewed this many days before expiry: certbot's own rule for
    /// `--keep-until-expiring` and for its timer's `certbot renew`, so not a
    /// setting (another number here would disagree with what certbot does).
    public static let renewWithinDays = 30

    public init(email: String, directory: URL = ACME.letsEncrypt, caBundle: String? = nil, certbot: String = "certbot",
                configDir: String = "/etc/letsencrypt", workDir: String = "/var/lib/letsencrypt", logsDir: String = "/var/log/letsencrypt",
                webroot: String = "/var/lib/swiftfab/acme") {
        self.email = email
        self.directory = directory
        self.caBundle = caBundle
        self.certbot = certbot
        self.configDir = configDir
        self.workDir = workDir
        self.logsDir = logsDir
        self.webroot = webroot
    }

    /// Whether the folders are certbot's defaults, which its system timer (or cron job) renews.
    var usesSystemFolders: Bool { configDir == "/etc/letsencrypt" && workDir == "/var/lib/letsencrypt" && logsDir == "/var/log/letsencrypt" }
}
