import Foundation
import SwiftFab

extension DoctorChecks {
    /// The site's certificate: how long until it expires (warn within
    /// `warnDays`, fail within `failDays`, with the command that renews it),
    /// and that the site serves the one on disk (`openssl s_client` to its
    /// HTTPS address with the host's name).
    public func certificate(_ proxy: NginxSite, _ tls: TLSConfig) -> DoctorCheck {
        let plan = ProvisionPlan(config: config)
        let crt = plan.publicCertificateFile(tls)
        let address = "\(tls.localAddress):\(tls.port)"
        // certbot's system timer (or, without systemd, its cron job) renews what is in its system folders.
        let scheduled = tls.acme?.usesSystemFolders == true
        let schedule: ShellString = scheduled ? """
            if [ -d /run/systemd/system ]; then systemctl is-enabled -q certbot.timer 2>/dev/null && echo renewal=timer || echo renewal=none; \
            else { [ -f /etc/cron.d/certbot ] && pgrep -x cron >/dev/null; } && echo renewal=cron || echo renewal=nocron; fi;
            """ : ""
        return DoctorCheck("certificate", Command(shell: """
            [ -f \(crt) ] || { echo missing; exit 0; }; \(schedule) \
            echo "end=$(date -d "$(openssl x509 -noout -enddate -in \(crt) | cut -d= -f2)" +%s)"; echo "now=$(date +%s)"; \
            echo "issuer=$(openssl x509 -noout -issuer -nameopt RFC2253 -in \(crt) | cut -d= -f2-)"; \
            echo "disk=$(openssl x509 -noout -fingerprint -sha256 -in \(crt) | cut -d= -f2)"; \
            echo "served=$(timeout 5 openssl s_client -connect \(address) -servername \(proxy.hostname) </dev/null 2>/dev/null \
            | openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2)"
            """)) { out in
            let fields = out.fields
            guard out.text != "missing" else {
                return Finding(.fail, "no certificate installed at \(crt)", hint: "swiftfab provision")
            }
            guard let end = Double(fields["end"] ?? ""), let now = Double(fields["now"] ?? "") else {
                return Finding(.fail, "cannot read \(crt): \(out.lastErrorLine)", hint: "openssl x509 -noout -text -in \(Shell.quote(crt))  (or: swiftfab provision)")
            }
            let days = (end - now) / 86400
            let saw = "\(proxy.hostname) \(Self.expiry(days: days, end: end)), issued by \(Self.issuerName(fields["issuer"] ?? ""))"
            let renew = renewHint(proxy, tls, plan)
            if days < Double(tls.failDays) { return Finding(.fail, saw, hint: renew) }
            let served = fields["served"] ?? ""
            if served.isEmpty {
                return Finding(.fail, "nothing answers HTTPS at \(address) for \(proxy.hostname) (\(saw))",
                               hint: "see why: swiftfab logs proxy; the site must listen on \(tls.listen) ssl (\(proxy.testCommand))")
            }
            if served != fields["disk"] {
                return Finding(.fail, "\(address) serves another certificate for \(proxy.hostname) than \(crt) (\(saw))",
                               hint: "another site may answer for \(proxy.hostname): nginx -T | grep -n -e server_name -e ssl_certificate  (then: swiftfab provision)")
            }
            if days < Double(tls.warnDays) { return Finding(.warn, saw, hint: renew) }
            switch fields["renewal"] {
            case "none": return Finding(.warn, saw + ", but nothing renews it: certbot.timer is not enabled", hint: "sudo systemctl enable --now certbot.timer")
            case "nocron": return Finding(.warn, saw + ", but nothing renews it: no cron runs /etc/cron.d/certbot",
                                          hint: "sudo apt-get install cron  (or renew it from another scheduler: \(renew))")
            default: break
            }
            return Finding(.ok, saw + ", served on \(address)")
        }
    }

    /// The command that renews the certificate now (certbot's own renewal should have, 30 days before expiry).
    func renewHint(_ proxy: NginxSite, _ tls: TLSConfig, _ plan: ProvisionPlan) -> String {
        guard let acme = tls.acme else {
            if case .files(let chain, let key) = tls.source {
                return "put a renewed certificate in \(chain) and its key in \(key), then: swiftfab provision"
            }
            return "swiftfab provision"
        }
        var words = ["certbot", "renew", "--cert-name", plan.certificateName]
        if !acme.usesSystemFolders { words += ["--config-dir", acme.configDir, "--work-dir", acme.workDir, "--logs-dir", acme.logsDir] }
        let bundle = acme.caBundle.map { "REQUESTS_CA_BUNDLE=" + Shell.quote($0) + " " } ?? ""
        return "sudo \(bundle)\(Shell.join(words))  (why it did not renew by itself: \(acme.logsDir)/letsencrypt.log)"
    }

    static func expiry(days: Double, end: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        let date = formatter.string(from: Date(timeIntervalSince1970: end))
        if days < 0 { return "expired on \(date)" }
        let left = days >= 2 ? "\(Int(days)) days" : "\(Int(days * 24)) hours"
        return "expires on \(date) (in \(left))"
    }

    /// `CN=R3,O=Let's Encrypt,C=US` as `R3 (Let's Encrypt)`.
    static func issuerName(_ rfc2253: String) -> String {
        let parts = Dictionary(rfc2253.split(separator: ",").compactMap { part -> (String, String)? in
            let pair = part.split(separator: "=", maxSplits: 1)
            return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
        }, uniquingKeysWith: { first, _ in first })
        guard let name = parts["CN"] ?? parts["O"] else { return rfc2253.isEmpty ? "?" : rfc2253 }
        return parts["O"].map { $0 == name ? name : "\(name) (\($0))" } ?? name
    }
}

extension NginxSite {
    /// How the server itself asks its own site for `path`: over HTTPS by the
    /// site's name at its local address when it has TLS (what the certificate
    /// check verifies is left to it), else over HTTP with the Host header.
    func localRequest(_ path: String) -> (arguments: ShellString, shown: String) {
        guard let tls else {
            return ("-H \(Word("Host: \(hostname)")) \(localURL + path)", "http://\(hostname)\(path) (via \(localURL))")
        }
        let origin = "https://\(hostname):\(tls.port)"
        return ("--insecure --resolve \("\(hostname):\(tls.port):\(tls.localAddress)") \(origin + path)", "\(origin)\(path) (via \(tls.localAddress))")
    }
}
