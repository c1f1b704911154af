import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// HTTPS in the provision plan, as values: which steps, what certbot is
/// asked, the site nginx gets, and doctor's reading of a certificate.
struct TLSPlanTests {
    let app = BlueGreenConfig(app: "shop", command: "serve", runtime: .process)

    @Test func withoutTLSTheSiteIsTheSameAsBefore() {
        let plan = ProvisionPlan(config: ServerConfig(app: app, packages: [], proxy: NginxSite(hostname: "shop.example.com"), boot: .none))
        // A server provisioned before HTTPS existed sees no change.
        #expect(plan.siteText(plan.config.proxy!) == """
            # Managed by swiftfab provision: shop (shop.example.com -> the live slot)
            upstream swiftfab_shop { server unix:/srv/shop/run/live.sock; }
            server {
                listen 80;
                server_name shop.example.com;
                location / {
                    proxy_pass http://swiftfab_shop;
                    proxy_set_header Host $host;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header X-Forwarded-Proto $scheme;
                }
            }

            """)
        #expect(plan.steps(systemd: false).map(\.name) == ["deploy user deploy (keys, sudoers)", "directories under /srv/shop",
                                                           "proxy site /etc/nginx/sites-enabled/shop.conf for shop.example.com"])
    }

    /// doctor and the deploy's check reach the site where nginx listens, in each of nginx's forms.
    @Test(arguments: [("443", "127.0.0.1", 443), ("8443", "127.0.0.1", 8443), ("127.0.0.5:8443", "127.0.0.5", 8443),
                      ("127.0.0.5", "127.0.0.5", 443), ("*:443", "127.0.0.1", 443), ("0.0.0.0:9443", "127.0.0.1", 9443),
                      ("[::]:443", "[::1]", 443), ("[::1]:8443", "[::1]", 8443), ("[2001:db8::5]", "[2001:db8::5]", 443),
                      ("443 default_server", "127.0.0.1", 443)])
    func theListenValueGivesTheAddressAndPortToReachTheSite(listen: String, address: String, port: Int) {
        var tls = TLSConfig.acme(email: "ops@example.com")
        tls.listen = listen
        #expect(tls.localAddress == address && tls.port == port, "\(listen): \(tls.localAddress) \(tls.port)")
    }

    @Test func acmeAddsCertbotTheCertificateAndTheSiteOverHTTPS() throws {
        let proxy = NginxSite(hostname: "shop.example.com", tls: .acme(email: "ops@example.com"))
        let plan = ProvisionPlan(config: ServerConfig(app: app, packages: [], proxy: proxy, boot: .none))
        #expect(plan.steps(systemd: false).map(\.name) == [
            "deploy user deploy (keys, sudoers)", "packages for HTTPS certbot openssl", "directories under /srv/shop",
            "proxy site /etc/nginx/sites-enabled/shop.conf for shop.example.com",
            "certificate for shop.example.com from acme-v02.api.letsencrypt.org (certbot)",
            "proxy site over HTTPS /etc/nginx/sites-enabled/shop.conf for shop.example.com",
        ])
        let certificate = try #require(plan.certificateSteps().first)
        let apply = try certificate.apply.rendered()
        for word in ["certbot certonly --non-interactive --agree-tos --email ops@example.com",
                     "--server https://acme-v02.api.letsencrypt.org/directory", "--config-dir /etc/letsencrypt",
                     "--webroot --webroot-path /var/lib/swiftfab/acme --domain shop.example.com --cert-name swiftfab-shop",
                     "--reuse-key --keep-until-expiring --deploy-hook /usr/local/lib/swiftfab/shop-certificate.sh"] {
            #expect(apply.contains(word), "\(word)")
        }
        // certbot never edits nginx's files; it does not reload nginx either.
        #expect(!apply.contains("--nginx") && !apply.contains(proxy.reloadCommand))
        // A private CA: its directory, and the bundle certbot trusts it with.
        var own = proxy
        own.tls = .acme(email: "ops@example.com", directory: URL(string: "https://ca.internal:14000/dir")!, caBundle: "/etc/ssl/ca.pem")
        let ownApply = try ProvisionPlan(config: ServerConfig(app: app, proxy: own)).certificateSteps()[0].apply.rendered()
        #expect(ownApply.contains("REQUESTS_CA_BUNDLE=/etc/ssl/ca.pem certbot certonly") && ownApply.contains("--server https://ca.internal:14000/dir"))
        #expect(ProvisionPlan(config: ServerConfig(app: app, proxy: own)).certificateSteps()[0].name == "certificate for shop.example.com from ca.internal (certbot)")
    }

    @Test func theHTTPSSiteRedirectsButForTheChallengesAndReadsItsCertificateAtEachHandshake() {
        var tls = TLSConfig.acme(email: "ops@example.com")
        tls.listen = "127.0.0.1:8443"
        let proxy = NginxSite(hostname: "shop.example.com", tls: tls)
        let plan = ProvisionPlan(config: ServerConfig(app: app, proxy: proxy))
        let https = plan.httpsSiteText(proxy, tls)
        #expect(https.contains("map $ssl_server_name $swiftfab_shop_certificate { default /etc/swiftfab/tls/shop.pem; }"))
        #expect(https.contains("listen 127.0.0.1:8443 ssl http2;\n    server_name shop.example.com;\n    ssl_certificate $swiftfab_shop_certificate;\n    ssl_certificate_key $swiftfab_shop_certificate;"))
        #expect(https.contains("location ^~ /.well-known/acme-challenge/ { root /var/lib/swiftfab/acme; default_type text/plain; }\n    location / { return 301 https://shop.example.com:8443$request_uri; }"))
        #expect(https.contains("proxy_set_header X-Forwarded-Proto $scheme;"))
        // Before the certificate exists the site stays on HTTP, answering the CA's challenges.
        let http = plan.siteText(proxy)
        #expect(http.contains("location ^~ /.well-known/acme-challenge/") && http.contains("proxy_pass http://swiftfab_shop;") && !http.contains("ssl"))
        // The user's own files: no challenges, no certbot.
        let files = NginxSite(hostname: "shop.example.com", tls: .files(certificate: "/etc/ssl/shop.crt", key: "/etc/ssl/private/shop.key"))
        let filesPlan = ProvisionPlan(config: ServerConfig(app: app, packages: [], proxy: files))
        #expect(!filesPlan.httpsSiteText(files, files.tls!).contains("acme-challenge"))
        #expect(filesPlan.steps(systemd: false).map(\.name).contains("packages for HTTPS openssl"))
        #expect(filesPlan.certificateSteps().map(\.name) == ["certificate for shop.example.com from /etc/ssl/shop.crt",
                                                             "proxy site over HTTPS /etc/nginx/sites-enabled/shop.conf for shop.example.com"])
    }

    @Test func doctorReadsExpiryAndTheServedCertificate() {
        var tls = TLSConfig.acme(email: "ops@example.com")
        tls.acme?.configDir = "/srv/le"
        let proxy = NginxSite(hostname: "shop.example.com", tls: tls)
        let check = DoctorChecks(config: ServerConfig(app: app, proxy: proxy)).certificate(proxy, tls)
        let now = 1_800_000_000.0, fingerprint = "AB:CD"
        func read(days: Double, served: String = fingerprint) -> Finding {
            check.read(CheckOutput(status: 0, stdout: "end=\(Int(now + days * 86400))\nnow=\(Int(now))\nissuer=CN=R10,O=Let's Encrypt,C=US\ndisk=\(fingerprint)\nserved=\(served)\n"))
        }
        let ok = read(days: 60)
        #expect(ok.status == .ok && ok.saw == "shop.example.com expires on 2027-03-16 08:00 UTC (in 60 days), issued by R10 (Let's Encrypt), served on 127.0.0.1:443", "\(ok.saw)")
        let soon = read(days: 10)
        #expect(soon.status == .warn && soon.hint?.hasPrefix("sudo certbot renew --cert-name swiftfab-shop --config-dir /srv/le") == true, "\(soon)")
        #expect(read(days: 1.5).status == .fail && read(days: 1.5).saw.contains("(in 36 hours)"))
        #expect(read(days: -1).saw.contains("expired on"))
        #expect(read(days: 60, served: "EF:01").status == .fail && read(days: 60, served: "EF:01").saw.contains("serves another certificate"))
        #expect(read(days: 60, served: "").saw.hasPrefix("nothing answers HTTPS at 127.0.0.1:443 for shop.example.com"))
        #expect(check.read(CheckOutput(status: 0, stdout: "missing\n")).status == .fail)
        // In certbot's system folders, its timer must be there to renew it.
        let system = NginxSite(hostname: "shop.example.com", tls: .acme(email: "ops@example.com"))
        let scheduled = DoctorChecks(config: ServerConfig(app: app, proxy: system)).certificate(system, system.tls!)
        #expect(scheduled.command.display.contains("systemctl is-enabled -q certbot.timer") && !check.command.display.contains("certbot.timer"))
        let unscheduled = scheduled.read(CheckOutput(status: 0, stdout: "renewal=none\nend=\(Int(now + 80 * 86400))\nnow=\(Int(now))\nissuer=CN=R10\ndisk=AB\nserved=AB\n"))
        #expect(unscheduled.status == .warn && unscheduled.hint == "sudo systemctl enable --now certbot.timer", "\(unscheduled)")
        // doctor reads the live site over HTTPS by its name.
        let live = DoctorChecks(config: ServerConfig(app: app, proxy: proxy)).liveThroughProxy(proxy).command.display
        #expect(live.contains("--insecure --resolve shop.example.com:443:127.0.0.1 https://shop.example.com:443/healthz"), "\(live)")
    }

    @Test func theDeploysProxyCheckFollowsTheSiteToHTTPSOnTheSameAddress() {
        let check = SlotCommands(config: BlueGreenConfig(app: "shop", command: "serve", proxyCheckURL: "http://127.0.0.1/healthz",
                                                         proxyCheckHost: "shop.example")).proxyCheck("http://127.0.0.1/healthz", slot: .green)
        #expect(check.display.contains("-L --max-redirs 3 --insecure --connect-to ::127.0.0.1: -H 'Host: shop.example' http://127.0.0.1/healthz"), "\(check.display)")
    }
}
