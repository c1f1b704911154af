import Foundation
import SwiftFab

/// HTTPS for the app's site (`NginxSite.tls`): the packages it needs, the
/// certificate (from an ACME CA with certbot, or the user's own files), and
/// the site over HTTPS once the certificate is installed.
///
/// nginx finds the certificate through a variable, so it reads the file at
/// each handshake: a renewal renames a new file into place and nginx is not
/// reloaded (a reload closes idle keep-alive connections, which clients
/// without retry see as errors). The chain and key are one file, replaced by
/// one rename; certbot keeps the key across renewals (`--reuse-key`), so a
/// handshake that reads the chain before a renewal's rename and the key after
/// it still gets a matching pair.
extension ProvisionPlan {
    var tls: TLSConfig? { config.proxy?.tls }

    /// certbot for a CA's certificates, openssl to check and install them; only with HTTPS.
    public func tlsPackages() -> ProvisionStep? {
        guard let tls else { return nil }
        let packages = tls.acme == nil ? ["openssl"] : ["certbot", "openssl"]
        return aptStep("packages for HTTPS " + packages.joined(separator: " "), packages)
    }

    /// The certificate, then the site switched to HTTPS (a second site step:
    /// the first one serves HTTP and the CA's challenges until there is a
    /// certificate, so HTTP keeps working when the CA refuses one).
    public func certificateSteps() -> [ProvisionStep] {
        guard let proxy = config.proxy, let tls = proxy.tls else { return [] }
        let certificate: ProvisionStep
        switch tls.source {
        case .acme(let acme): certificate = acmeCertificate(proxy, tls, acme)
        case .files(let chain, let key): certificate = certificateFromFiles(proxy, tls, chain: chain, key: key)
        }
        return [certificate, proxySite("proxy site over HTTPS")].compactMap { $0 }
    }

    // MARK: paths

    /// What nginx reads at each handshake: the chain, then the key (root, the site's `group`, 0640).
    public func certificateFile(_ tls: TLSConfig) -> String { tls.certificateDir + "/" + layout.app + ".pem" }
    /// The chain alone (0644): what doctor compares with the served certificate.
    public func publicCertificateFile(_ tls: TLSConfig) -> String { tls.certificateDir + "/" + layout.app + ".crt" }
    /// certbot's name for the app's certificate (its folders and renewal settings).
    public var certificateName: String { "swiftfab-" + layout.app }
    /// Run by certbot after each issuance and renewal: installs the new certificate for nginx.
    public var certificateHook: String { config.bootScriptDir + "/" + layout.app + "-certificate.sh" }

    // MARK: the site

    /// Sets `$site` to the site text the host should have: over HTTPS once its certificate is installed.
    func wantedSite(_ proxy: NginxSite) -> ShellString {
        guard let tls = proxy.tls else { return "site=\(siteText(proxy))" }
        return "if [ -f \(certificateFile(tls)) ]; then site=\(httpsSiteText(proxy, tls)); else site=\(siteText(proxy)); fi"
    }

    /// Port 80 answers the CA's HTTP-01 challenges from certbot's webroot.
    func acmeChallengeLocation(_ proxy: NginxSite) -> String {
        guard let acme = proxy.tls?.acme else { return "" }
        return "    location ^~ /.well-known/acme-challenge/ { root \(acme.webroot); default_type text/plain; }\n"
    }

    /// HTTP redirects to HTTPS (but for the CA's challenges); HTTPS serves the app.
    public func httpsSiteText(_ proxy: NginxSite, _ tls: TLSConfig) -> String {
        let extra = proxy.extraDirectives.map { "    \($0)\n" }.joined()
        let variable = "$" + upstreamName + "_certificate"
        let origin = "https://" + proxy.hostname + (tls.port == 443 ? "" : ":\(tls.port)")
        return """
            # Managed by swiftfab provision: \(layout.app) (\(proxy.hostname) -> the live slot, over HTTPS)
            upstream \(upstreamName) { server unix:\(SlotCommands(config: config.app).liveSocket); }
            # A certificate named through a variable is read at each handshake: a renewal needs no reload.
            map $ssl_server_name \(variable) { default \(certificateFile(tls)); }
            server {
                listen \(proxy.listen);
                server_name \(proxy.hostname);
            \(acmeChallengeLocation(proxy))    location / { return 301 \(origin)$request_uri; }
            }
            server {
                listen \(tls.listen) ssl http2;
                server_name \(proxy.hostname);
                ssl_certificate \(variable);
                ssl_certificate_key \(variable);
            \(extra)\(appLocation)}

            """
    }

    // MARK: the certificate

    /// From the CA, with `certbot certonly --webroot` (certbot never edits the
    /// site): asked for when none is installed, when it no longer names the
    /// host, or within `ACME.renewWithinDays` of its expiry; then installed by the hook
    /// certbot also runs after each renewal (its system timer renews).
    func acmeCertificate(_ proxy: NginxSite, _ tls: TLSConfig, _ acme: ACME) -> ProvisionStep {
        let live = acme.configDir + "/live/" + certificateName
        let renewal = acme.configDir + "/renewal/" + certificateName + ".conf"
        let hook = certificateHook, hookText = certificateHookText(proxy, tls, acme)
        // certbot writes as root into its folders and the webroot: only where only root can change them.
        let trustedFolders = [acme.webroot, acme.configDir, acme.workDir, acme.logsDir].map(RootSafety.requireTrusted)
            .reduce(ShellString.raw("true")) { $0 + "; " + $1 }
        let settings = ["server = " + acme.directory.absoluteString, "renew_hook = " + hook, proxy.hostname + " = " + acme.webroot, "reuse_key = True"]
        let sameSettings: ShellString = "{ for line in \(settings); do grep -qxF \"$line\" \(renewal) 2>/dev/null || exit 1; done; }"
        let certbot: ShellString = """
            \(raw: acme.caBundle.map { "REQUESTS_CA_BUNDLE=" + Shell.quote($0) + " " } ?? "")\(raw: acme.certbot) certonly \
            --non-interactive --agree-tos --email \(acme.email) --server \(acme.directory.absoluteString) \
            --config-dir \(acme.configDir) --work-dir \(acme.workDir) --logs-dir \(acme.logsDir) \
            --webroot --webroot-path \(acme.webroot) --domain \(proxy.hostname) --cert-name \(certificateName) \
            --reuse-key --keep-until-expiring --deploy-hook \(hook)
            """
        let check: ShellString = """
            \(installedCertificateCheck(proxy, tls, renewDays: ACME.renewWithinDays)); \
            { { \(Self.certificatesOnly) < \(live + "/fullchain.pem"); awk 1 \(live + "/privkey.pem"); } | cmp -s - \(certificateFile(tls)); } 2>/dev/null \
            || { printf '%s is not certbot'"'"'s latest certificate\\n' \(certificateFile(tls)); exit 1; }; \
            ( \(sameSettings) ) || { printf 'certbot'"'"'s renewal settings (%s) are not as wanted\\n' \(renewal); exit 1; }; \
            [ -d \(acme.webroot) ] || { printf 'no webroot %s\\n' \(acme.webroot); exit 1; }; \
            \(FileText.matches(hook, hookText)) || { printf '%s differs\\n' \(hook); exit 1; }
            """
        let apply: ShellString = """
            \(RootSafety.functions); \(trustedFolders); \
            \(FileText.write(hook, hookText, mode: "755")) || exit 1; (umask 022; mkdir -p \(acme.webroot)) && chmod 755 \(acme.webroot) || exit 1; \
            force=; [ ! -f \(renewal) ] || ( \(sameSettings) ) || force=--force-renewal; \
            if ! out=$(\(certbot) $force 2>&1); then \
            said=$(printf '%s\\n' "$out" | grep -E '^ *(Type|Detail):|[Ee]rror|too many|rate.?limit' | tail -n 3); \
            printf '%s\\n' "${said:-$(printf '%s\\n' "$out" | tail -n 2)}" >&2; \
            printf 'no certificate for %s, so the site stays on HTTP. Check that %s points at this server (its A and AAAA records), that port 80 reaches this nginx from the internet, and the CA'"'"'s rate limits if it names one; then run provision again (certbot'"'"'s log: %s)\\n' \
            \(proxy.hostname) \(proxy.hostname) \(acme.logsDir + "/letsencrypt.log") >&2; exit 1; fi; \
            \(hook)
            """
        return ProvisionStep("certificate for \(proxy.hostname) from \(acme.directory.host ?? acme.directory.absoluteString) (certbot)",
                             check: Command(shell: check), apply: Command(shell: apply))
    }

    /// The script certbot runs (as root) after it issues or renews the certificate.
    public func certificateHookText(_ proxy: NginxSite, _ tls: TLSConfig, _ acme: ACME) -> String {
        let live = acme.configDir + "/live/" + certificateName
        let install = installCertificate(proxy, tls, chain: "cat \(live + "/fullchain.pem")", key: "cat \(live + "/privkey.pem")")
        return "#!/bin/sh\n# Managed by swiftfab provision: certbot's deploy hook for \(certificateName); installs the new certificate where nginx reads it at each handshake (no reload).\n"
            + install.rendered() + "\n"
    }

    /// The user's own certificate and key, installed for nginx when they
    /// change. They are read as root only from folders only root can change,
    /// else as the deploy user (`RootSafety.by_trust`).
    func certificateFromFiles(_ proxy: NginxSite, _ tls: TLSConfig, chain: String, key: String) -> ProvisionStep {
        let read = { (file: String) -> ShellString in "by_trust \"$(dirname \(file))\" \(owner) cat \(file)" }
        let check: ShellString = """
            \(RootSafety.functions); \(installedCertificateCheck(proxy, tls, renewDays: nil)); \
            { { \(read(chain)) | \(Self.certificatesOnly); \(read(key)) | awk 1; } | cmp -s - \(certificateFile(tls)); } 2>/dev/null \
            || { printf '%s differs from %s and %s\\n' \(certificateFile(tls)) \(chain) \(key); exit 1; }
            """
        return ProvisionStep("certificate for \(proxy.hostname) from \(chain)", check: Command(shell: check),
                             apply: Command(shell: "\(RootSafety.functions); \(installCertificate(proxy, tls, chain: read(chain), key: read(key)))"))
    }

    /// The installed certificate is a file (no link) nginx's group can read,
    /// names the host, and (for a CA's) is not within `renewDays` of expiry.
    func installedCertificateCheck(_ proxy: NginxSite, _ tls: TLSConfig, renewDays: Int?) -> ShellString {
        let pem = certificateFile(tls), crt = publicCertificateFile(tls)
        let expiry: ShellString = renewDays.map { days in """
            ; openssl x509 -noout -checkend \(days * 86400) -in \(pem) >/dev/null || { printf 'the certificate in %s expires within %s days\\n' \(pem) \(days); exit 1; }
            """ } ?? ""
        return """
            [ -f \(pem) ] && [ ! -L \(pem) ] || { printf 'no certificate installed at %s\\n' \(pem); exit 1; }; \
            [ "$(stat -c '%U %G %a' \(pem))" = \("root \(proxy.group) 640") ] || { printf '%s is not %s\\n' \(pem) \("root \(proxy.group) 640"); exit 1; }; \
            openssl x509 -noout -checkhost \(proxy.hostname) -in \(pem) 2>/dev/null | grep -q 'does match' \
            || { printf 'the certificate in %s does not name %s\\n' \(pem) \(proxy.hostname); exit 1; }\(expiry); \
            { \(Self.certificatesOnly) < \(pem) | cmp -s - \(crt) && [ "$(stat -c '%U %a' \(crt))" = 'root 644' ]; } 2>/dev/null \
            || { printf '%s is not the certificate of %s\\n' \(crt) \(pem); exit 1; }
            """
    }

    /// The PEM certificates of a chain file (without text between them): the form `<app>.crt` and `<app>.pem` hold it in.
    static let certificatesOnly: ShellString = "sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p'"

    /// Reads the chain and key (`chain`, `key`: commands that print them),
    /// checks that they are a pair that names the host and has not expired,
    /// and renames them into place: `<app>.pem` (chain and key, what nginx
    /// reads), then `<app>.crt`. Written aside in the certificate folder, which
    /// only root can change, made with umask 022 whatever root's umask is
    /// (nginx's workers open the file through it).
    func installCertificate(_ proxy: NginxSite, _ tls: TLSConfig, chain: ShellString, key: ShellString) -> ShellString {
        let dir = tls.certificateDir
        return """
            set -e; \(RootSafety.functions); \(RootSafety.requireTrusted(dir)); (umask 022; mkdir -p \(dir)); umask 077; \
            crt=$(mktemp \(dir + "/.swiftfab.XXXXXX")); key=$(mktemp \(dir + "/.swiftfab.XXXXXX")); pem=$(mktemp \(dir + "/.swiftfab.XXXXXX")); \
            trap 'rm -f "$crt" "$key" "$pem"' EXIT; \
            \(chain) | \(Self.certificatesOnly) > "$crt"; \(key) | awk 1 > "$key"; \
            fail() { printf '%s; nothing installed\\n' "$1" >&2; exit 1; }; \
            openssl x509 -noout -in "$crt" 2>/dev/null || fail 'the certificate is not a PEM certificate'; \
            openssl pkey -noout -in "$key" 2>/dev/null || fail 'the key is not a PEM private key (without a passphrase)'; \
            [ "$(openssl x509 -noout -pubkey -in "$crt")" = "$(openssl pkey -pubout -in "$key")" ] || fail 'the key does not belong to the certificate'; \
            openssl x509 -noout -checkhost \(proxy.hostname) -in "$crt" | grep -q 'does match' || fail \("the certificate does not name \(proxy.hostname)"); \
            openssl x509 -noout -checkend 0 -in "$crt" >/dev/null || fail "the certificate expired on $(openssl x509 -noout -enddate -in "$crt" | cut -d= -f2)"; \
            cat "$crt" "$key" > "$pem"; chgrp \(proxy.group) "$pem"; chmod 640 "$pem"; chmod 644 "$crt"; \
            mv -f "$pem" \(certificateFile(tls)); mv -f "$crt" \(publicCertificateFile(tls))
            """
    }
}
