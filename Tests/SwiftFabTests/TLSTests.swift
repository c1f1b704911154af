import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// HTTPS for real: a certificate from pebble (Let's Encrypt's test CA) with
/// certbot, on a sandbox host whose nginx, certbot folders and certificates
/// live in its private /srv; renewals and deploys under keep-alive HTTPS load
/// (wrk, no retries: every dropped request counts); the user's own files;
/// doctor's certificate row.
@Suite(.serialized) struct TLSTests {
    var hosts: TestHosts { .shared }
    static let index = 51
    var ip: String { hosts.ip(Self.index) }
    static let (httpPort, httpsPort, pebblePort) = (18151, 18152, 14600)

    /// The provision test's system fixture (nginx and supervisor under `sys`), with HTTPS on `httpsPort`.
    func systemFixture(_ sys: String, tls source: TLSConfig.Source) -> (setup: String, proxy: NginxSite, boot: BootService) {
        var fixture = ProvisionTests.systemFixture(sys, ip: ip, port: Self.httpPort)
        fixture.proxy.tls = TLSConfig(source: source, listen: "\(ip):\(Self.httpsPort)", certificateDir: "\(sys)/tls")
        return fixture
    }

    func acme(_ sys: String, _ ca: PebbleCA) -> ACME {
        ACME(email: "ops@shop.example", directory: ca.directory, caBundle: ca.listenerCertificate, configDir: "\(sys)/letsencrypt",
             workDir: "\(sys)/letsencrypt-work", logsDir: "\(sys)/letsencrypt-logs", webroot: "\(sys)/acme")
    }

    @Test(.timeLimit(.minutes(6)), .sandbox) func certificateFromTheCAThenRenewalAndDeploysDropNoRequest() async throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let user = "sft\(tag)", root = "/srv/tls-\(tag)", sys = "/srv/tsys-\(tag)"
        let envFile = try TempDir.make().path + "/prod.env"
        try "GREETING=hello-\(tag)\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let key = try String(contentsOfFile: hosts.clientKey + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let keysFile = hosts.directory + "/authorized_keys/" + user
        let app = BlueGreenConfig(app: "shop", root: root, command: "/usr/bin/python3 -m gunicorn --workers 2 --bind unix:{socket} app:app",
                                  healthTimeout: 10, proxyCheckURL: "http://\(ip):\(Self.httpPort)/version", proxyCheckHost: "shop.example",
                                  envFile: envFile, runtime: .process)

        try await hosts.withConnection("th\(Self.index)") { connection in
            func remote(_ script: String) async throws -> String {
                try await connection.run(.raw(script)).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let ca = try await PebbleCA.start(on: connection, port: Self.pebblePort, address: ip, httpPort: Self.httpPort)
            var fixture = systemFixture(sys, tls: .acme(acme(sys, ca)))
            // Answered by nginx itself: keep-alive connections spend more of their time idle between requests,
            // where a reload would close them under the client (as nginx serves static files).
            fixture.proxy.extraDirectives = ["location = /probe { return 200 \"probe\\n\"; }"]
            let config = ServerConfig(app: app, deployUser: user, authorizedKeys: [key], authorizedKeysFile: keysFile, sudoersDir: "\(sys)/sudoers.d",
                                      packages: [], proxy: fixture.proxy, boot: fixture.boot, bootScriptDir: "\(sys)/lib")
            let plan = ProvisionPlan(config: config), tls = fixture.proxy.tls!
            let setup = try await connection.run(.raw(fixture.setup))
            #expect(setup.succeeded, "\(setup.stderrText)")
            let https = "curl -s --max-time 5 --cacert \(ca.root) --resolve shop.example:\(Self.httpsPort):\(ip) https://shop.example:\(Self.httpsPort)"
            let http = "curl -s --max-time 5 -H 'Host: shop.example' http://\(ip):\(Self.httpPort)"
            let served = "openssl s_client -connect \(ip):\(Self.httpsPort) -servername shop.example </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"
            let live = "\(sys)/letsencrypt/live/swiftfab-shop"
            var loads: [KeepAliveLoad] = []   // stopped at the end whatever happens (each is bounded anyway)
            do {
                // The name points elsewhere: the CA cannot validate it. The step says so and what to do; HTTP keeps serving.
                try await ca.point("shop.example", at: "127.0.0.254", on: connection)
                let refused = try await Provisioner(config: config).provision(on: connection)
                let step = refused.first { $0.step.hasPrefix("certificate for shop.example") }
                #expect(step?.outcome == .failed, "\(refused)")
                #expect(step?.detail.contains("127.0.0.254") == true, "\(step?.detail ?? "")")
                #expect(step?.detail.contains("no certificate for shop.example, so the site stays on HTTP. Check that shop.example points at this server") == true,
                        "\(step?.detail ?? "")")
                #expect(refused.last?.outcome == .skipped)
                #expect(try await remote("cat \(plan.siteFile(fixture.proxy))") + "\n" == plan.siteText(fixture.proxy))

                // Deployed over HTTP meanwhile: the site serves the app, and answers the CA's challenges.
                let (sshConfig, options) = try hosts.customConfig(hosts.block("tls-deploy", index: Self.index, user: user))
                let repo = try await BlueGreenTests.appRepository()
                let asUser = try await SSHConnection.connect("tls-deploy", config: sshConfig, options: options)
                _ = try await BlueGreenDeployer(config: app).deploy(on: asUser, repository: try GitRepository(discoveringFrom: repo), revision: "HEAD", deployer: "ci")
                await asUser.close()
                #expect(try await remote("\(http)/greeting") == "hello-\(tag)")
                _ = try await remote("mkdir -p \(sys)/acme/.well-known/acme-challenge && echo token-\(tag) > \(sys)/acme/.well-known/acme-challenge/probe")
                #expect(try await remote("\(http)/.well-known/acme-challenge/probe") == "token-\(tag)")

                // The name points here: the certificate comes, the site moves to HTTPS with it.
                try await ca.unpoint("shop.example", on: connection)
                let issued = try await Provisioner(config: config).provision(on: connection)
                #expect(issued.allSatisfy { $0.outcome != .failed && $0.outcome != .skipped }, "\(issued)")
                #expect(issued.filter { $0.outcome == .changed }.map(\.step) == [
                    "certificate for shop.example from 127.0.0.1 (certbot)", "proxy site over HTTPS \(plan.siteFile(fixture.proxy)) for shop.example",
                    "supervisor program swiftfab-shop (slots back after a reboot)"], "\(issued)")
                #expect(try await remote("\(https)/greeting") == "hello-\(tag)")   // verified with pebble's root, by name
                let certbotCertificate = try await remote("openssl x509 -noout -fingerprint -sha256 -in \(live)/cert.pem")
                #expect(try await remote(served) == certbotCertificate)
                #expect(try await remote("stat -c '%U %G %a' \(plan.certificateFile(tls)); stat -c '%U %a' \(plan.publicCertificateFile(tls))")
                        == "root www-data 640\nroot 644")   // nginx's workers run as www-data
                // HTTP redirects to HTTPS, but for the CA's challenges.
                #expect(try await remote("\(http)/greeting -o /dev/null -w '%{http_code} %{redirect_url}'") == "301 https://shop.example:\(Self.httpsPort)/greeting")
                #expect(try await remote("\(http)/.well-known/acme-challenge/probe") == "token-\(tag)")

                // A second run changes nothing while the certificate is valid and not near its expiry.
                let again = try await Provisioner(config: config).provision(on: connection)
                #expect(again.allSatisfy { $0.outcome == .ok }, "\(again)")

                // doctor: the certificate, and the live release through the proxy over HTTPS.
                let findings = try await DoctorRun(config: config).findings(on: connection)
                let certificate = findings.first { $0.check == "certificate" }
                #expect(certificate?.status == .ok && certificate?.saw.contains("issued by Pebble Intermediate CA") == true
                        && certificate?.saw.contains("served on \(ip):\(Self.httpsPort)") == true, "\(String(describing: certificate))")
                let viaProxy = findings.first { $0.check == "live via proxy" }
                #expect(viaProxy?.status == .ok, "\(String(describing: viaProxy))")

                // Renewal under load: keep-alive clients and new connections (a handshake each) while certbot renews
                // and its hook installs the new certificate. nginx is not reloaded; no request fails.
                let nginxProcesses = "m=$(cat \(sys)/nginx/nginx.pid); echo $m $(pgrep -P $m | sort)"   // this nginx: its master and workers
                let processesBefore = try await remote(nginxProcesses)
                let site = "https://\(ip):\(Self.httpsPort)"
                let keepAlive = try await KeepAliveLoad.start(on: connection, url: site + "/probe", host: "shop.example")
                let handshakes = try await KeepAliveLoad.start(on: connection, url: site + "/greeting", host: "shop.example", connections: 4, newConnections: true)
                loads += [keepAlive, handshakes]
                try await waitForRequests(200, log: "\(sys)/nginx/access.log", on: connection)
                let renew = try await connection.run(.raw("""
                    REQUESTS_CA_BUNDLE=\(ca.listenerCertificate) certbot renew --force-renewal --cert-name swiftfab-shop --no-random-sleep-on-renew \
                    --config-dir \(sys)/letsencrypt --work-dir \(sys)/letsencrypt-work --logs-dir \(sys)/letsencrypt-logs 2>&1
                    """), ExecOptions(timeout: 120))
                #expect(renew.succeeded, "\(renew.stdoutText)")
                let renewed = try await remote("openssl x509 -noout -fingerprint -sha256 -in \(live)/cert.pem")
                #expect(renewed != certbotCertificate)
                try await waitFor("the renewed certificate to be served") { try await remote(served) == renewed }
                try await waitForRequests(200, log: "\(sys)/nginx/access.log", on: connection)
                let keptAlive = try await keepAlive.stop(on: connection), fresh = try await handshakes.stop(on: connection)
                print("renewal under HTTPS load: keep-alive \(keptAlive); new connection each \(fresh)")
                #expect(keptAlive.failed == 0 && fresh.failed == 0, "keep-alive: \(keptAlive); new connections: \(fresh)")
                #expect(try await remote(nginxProcesses) == processesBefore)   // no reload, no new workers
                #expect(try await remote("\(https)/greeting") == "hello-\(tag)")
                #expect(try await Provisioner(config: config).provision(on: connection).allSatisfy { $0.outcome == .ok })

                // A deploy (blue/green switch) under keep-alive HTTPS load: no request fails. Its check through
                // the proxy follows the site's redirect to HTTPS on the same address.
                try await BlueGreenTests.commit(repo, version: "v1-\(tag)")
                let deployLoad = try await KeepAliveLoad.start(on: connection, url: "https://\(ip):\(Self.httpsPort)/version", host: "shop.example")
                loads.append(deployLoad)
                try await waitForRequests(200, log: "\(sys)/nginx/access.log", on: connection)
                let again2 = try await SSHConnection.connect("tls-deploy", config: sshConfig, options: options)
                let deployed = try await BlueGreenDeployer(config: app).deploy(on: again2, repository: try GitRepository(discoveringFrom: repo),
                                                                               revision: "HEAD", deployer: "ci")
                await again2.close()
                #expect(deployed.slot == .green)
                try await waitFor("the new release over HTTPS") { try await remote("\(https)/version") == "v1-\(tag)" }
                try await waitForRequests(200, log: "\(sys)/nginx/access.log", on: connection)
                let duringDeploy = try await deployLoad.stop(on: connection)
                print("deploy under keep-alive HTTPS load: \(duringDeploy)")
                #expect(duringDeploy.failed == 0, "\(duringDeploy)")
            } catch {
                Issue.record(error)
            }
            for load in loads { _ = try? await load.stop(on: connection) }
            try? await ca.stop(on: connection)
            _ = try await remote(ProvisionTests.teardown(sys, root: root) + "; for i in $(seq 100); do pgrep -u \(user) >/dev/null || break; sleep 0.1; done; "
                                 + "userdel -r \(user) 2>/dev/null; rm -f \(keysFile); true")
        }
    }

    /// Waits until nginx has logged `count` more requests (the load flows).
    func waitForRequests(_ count: Int, log: String, on connection: SSHConnection) async throws {
        let start = Int(try await connection.run(.raw("wc -l < \(log)")).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        try await waitFor("\(count) requests in \(log)", seconds: 60) {
            let now = Int(try await connection.run(.raw("wc -l < \(log)")).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            return now >= start + count
        }
    }

    /// The user's own files (made here with openssl): installed for nginx, served over HTTPS, replaced
    /// when they change; a bad pair is refused with the previous one still served; doctor's certificate row.
    @Test(.timeLimit(.minutes(3)), .sandbox) func ownCertificateFilesAndWhatDoctorSaysOfThem() async throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let sys = "/srv/tsys-\(tag)", own = "/srv/tsys-\(tag)/own"
        let fixture = systemFixture(sys, tls: .files(certificate: "\(own)/shop.crt", key: "\(own)/shop.key"))
        var proxy = fixture.proxy
        proxy.extraDirectives = ["location = /probe { return 200 \"tls $scheme\\n\"; }"]
        let config = ServerConfig(app: BlueGreenConfig(app: "shop", root: "/srv/tls-\(tag)", command: "serve", runtime: .process),
                                  deployUser: "root", packages: [], proxy: proxy, boot: .none)
        let plan = ProvisionPlan(config: config), tls = proxy.tls!
        let steps = [plan.tlsPackages()!, plan.proxySite()!] + plan.certificateSteps()
        func certificate(_ name: String, days: Int, host: String = "shop.example", key: String? = nil) -> String {
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days \(days) -subj /CN=\(host) -addext subjectAltName=DNS:\(host) "
                + "-keyout \(key ?? "\(own)/\(name).key") -out \(own)/\(name).crt 2>/dev/null"
        }
        try await hosts.withConnection("th\(Self.index)") { connection in
            func remote(_ script: String) async throws -> String {
                try await connection.run(.raw(script)).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            func doctor() async throws -> Finding {
                let bundle = CheckBundle([DoctorChecks(config: config).certificate(proxy, tls)])
                return bundle.read(try await connection.run(try bundle.command()).stdoutText, host: "th\(Self.index)")[0]
            }
            let setup = try await connection.run(.raw(fixture.setup + "; mkdir -p \(own) && " + certificate("shop", days: 10)))
            #expect(setup.succeeded, "\(setup.stderrText)")
            // Trusting the installed certificate (self-made: it is its own CA).
            let https = "curl -s --max-time 5 --cacert \(plan.publicCertificateFile(tls)) --resolve shop.example:\(Self.httpsPort):\(ip) https://shop.example:\(Self.httpsPort)"
            do {
                let first = try await ProvisionRunner().run(steps, on: connection)
                #expect(first.map(\.outcome) == [.ok, .changed, .changed, .changed], "\(first)")
                #expect(try await remote("\(https)/probe") == "tls https")
                #expect(try await ProvisionRunner().run(steps, on: connection).allSatisfy { $0.outcome == .ok })
                // Installed by a root whose umask is 077 (as certbot's hook may be): nginx's workers still reach the file.
                let install = try steps[2].apply.rendered()
                #expect(try await connection.run(.raw("rm -rf \(tls.certificateDir); umask 077; \(install)")).succeeded)
                #expect(try await remote("\(https)/probe") == "tls https")
                // 10 days left: doctor warns, and says how to renew.
                let warned = try await doctor()
                #expect(warned.status == .warn && warned.saw.hasPrefix("shop.example expires on") && warned.saw.range(of: #"\(in (9|10) days\)"#, options: .regularExpression) != nil, "\(warned)")
                #expect(warned.hint == "put a renewed certificate in \(own)/shop.crt and its key in \(own)/shop.key, then: swiftfab provision")

                // New files (and a new key): provision installs them, nginx serves them without a reload; a day left fails.
                _ = try await remote(certificate("shop", days: 1))
                #expect(try await ProvisionRunner().run(steps, on: connection).map(\.outcome) == [.ok, .ok, .changed, .ok])
                #expect(try await remote("\(https)/probe") == "tls https")
                let failing = try await doctor()
                #expect(failing.status == .fail && failing.saw.contains("hours)"), "\(failing)")

                // A key that is not the certificate's, or a certificate for another name: refused, the installed one stays.
                let installed = try await remote("cat \(plan.certificateFile(tls))")
                _ = try await remote(certificate("other", days: 90) + " && cp \(own)/other.key \(own)/shop.key")
                let mismatch = try await ProvisionRunner().run(steps, on: connection)
                #expect(mismatch[2].outcome == .failed && mismatch[2].detail.contains("the key does not belong to the certificate; nothing installed"), "\(mismatch)")
                _ = try await remote(certificate("shop", days: 90, host: "elsewhere.example"))
                let otherName = try await ProvisionRunner().run(steps, on: connection)
                #expect(otherName[2].outcome == .failed && otherName[2].detail.contains("the certificate does not name shop.example"), "\(otherName)")
                #expect(try await remote("cat \(plan.certificateFile(tls))") == installed)
                #expect(try await remote("\(https)/probe") == "tls https")

                // 90 days left: ok.
                _ = try await remote(certificate("shop", days: 90))
                #expect(try await ProvisionRunner().run(steps, on: connection)[2].outcome == .changed)
                let fine = try await doctor()
                #expect(fine.status == .ok && fine.saw.range(of: #"\(in (89|90) days\)"#, options: .regularExpression) != nil && fine.saw.contains("served on \(ip):\(Self.httpsPort)"), "\(fine)")

                // Another site answers for the name (this one is gone): doctor sees the served certificate is not the one on disk.
                _ = try await remote(certificate("other", days: 90, host: "other.example") + "; cat \(own)/other.crt \(own)/other.key > \(sys)/other.pem; "
                    + "printf '%s' 'server { listen \(ip):\(Self.httpsPort) ssl; server_name other.example; ssl_certificate \(sys)/other.pem; "
                    + "ssl_certificate_key \(sys)/other.pem; return 200; }' > \(sys)/nginx/sites/other-tls.conf; "
                    + "rm \(plan.siteFile(proxy)); nginx -c \(sys)/nginx/nginx.conf -s reload")
                try await waitFor("the other site to answer") { try await doctor().saw.contains("serves another certificate") }
                let other = try await doctor()
                #expect(other.status == .fail && other.hint?.contains("nginx -T") == true, "\(other)")

                // A certificate folder another user can change: provision (as root) writes nothing there.
                _ = try await remote("chown nobody \(sys)/tls && " + certificate("shop", days: 90))
                let untrusted = try await ProvisionRunner().run(steps, on: connection)
                #expect(untrusted.contains { $0.outcome == .failed && $0.detail.contains("\(sys)/tls can be changed by a user other than root") }, "\(untrusted)")
            } catch {
                Issue.record(error)
            }
            _ = try await remote(ProvisionTests.teardown(sys, root: "/srv/tls-\(tag)"))
        }
    }
}
