import Foundation
import Testing
@testable import SwiftFab

/// The README's "Quick start: your own server", read from README.md and run
/// as written on a fresh Debian 12 server (`scripts/freshhosts`): reached
/// as root first, then as the deploy user provision makes; the server's own
/// /etc, packages, services and log permissions. The test makes the edits
/// the README leaves to the person (the lines marked `edit:`), answers
/// `trust`'s question on a terminal, and names `web1.example.com` in the ssh
/// config, as a person's DNS would.
extension FreshHostTests {
    /// The commands of the README's quick start, one per line, comments dropped.
    static func quickStartCommands() throws -> [String] {
        let readme = try String(contentsOfFile: TestHosts.packageRoot + "/README.md", encoding: .utf8)
        guard let section = readme.range(of: "## Quick start: your own server"),
              let open = readme.range(of: "```sh\n", range: section.upperBound..<readme.endIndex),
              let close = readme.range(of: "```", range: open.upperBound..<readme.endIndex) else {
            throw SwiftFabError(.local, "README.md has no sh block under \"Quick start: your own server\"")
        }
        return readme[open.upperBound..<close.lowerBound].split(separator: "\n").compactMap { line in
            let command = (line.range(of: "  #").map { line[..<$0.lowerBound] } ?? line[...]).trimmingCharacters(in: .whitespaces)
            return command.isEmpty || command.hasPrefix("#") ? nil : command
        }
    }

    /// Let's Encrypt's test CA stands in for Let's Encrypt: on this machine's
    /// loopback (reached from the server as 10.0.2.2), its DNS giving
    /// web1.example.com the server's address, as the person's DNS would.
    static let pebblePort = 14700

    @Test(.timeLimit(.minutes(20))) func theReadmeQuickStartOnAFreshServer() async throws {
        try await FreshHosts.started()
        try await hosts.reset(1)
        let commands = try Self.quickStartCommands()
        let started = monotonicNow()
        let ca = try await TestHosts.shared.connect("th1")
        let pebble = try await PebbleCA.start(on: ca, port: Self.pebblePort, address: hosts.ip(1), httpPort: hosts.httpPort)
        // The CA is stopped, and that awaited, whatever happens: the next run needs its port.
        do {
            try await quickStart(commands, ca: pebble, since: started)
        } catch {
            Issue.record(error)
        }
        try? await pebble.stop(on: ca)
        await ca.close()
    }

    private func quickStart(_ commands: [String], ca pebble: PebbleCA, since started: Double) async throws {
        let run = try QuickStartRun(hosts: hosts, index: 1, ca: pebble)
        _ = try await run.onHost("cat > /etc/ssl/certs/test-acme-ca.pem", stdin: try String(contentsOfFile: pebble.listenerCertificate, encoding: .utf8))
        var deployed = 0
        for command in commands {
            if command == "$EDITOR Deployfile.swift" {
                try run.makeTheMarkedEdits()
            } else if command.hasPrefix("read -rs "), let variable = command.split(separator: " ").dropFirst(2).first.map({ String($0.prefix { $0 != ";" }) }) {
                run.environment[variable] = "db-" + UUID().uuidString.prefix(12)
            } else if command.hasPrefix("git ") {
                let done = await run.shell(command)
                #expect(done.status == 0, "\(command): \(done.output)")
            } else if command.hasPrefix("swiftfab ") {
                let words = Array(command.split(separator: " ").map(String.init).dropFirst())
                #expect(!command.contains("'") && !command.contains("\""), "a quoted swiftfab command: split it by hand in the test")
                switch words.first {
                case "trust":
                    let trusted = await run.answeringYes(words)
                    #expect(trusted.status == 0 && trusted.output.contains("added [\(hosts.ip(1))]:\(hosts.port)"), "\(trusted.output)")
                case "provision" where words.contains("--check"):
                    let check = try await run.swiftfab(words)
                    #expect(check.status == 2 && check.output.contains("would change"), "\(check.output)")
                    // Nothing changed: no deploy user, no nginx, no PostgreSQL yet.
                    #expect(try await run.onHost("id -u deploy >/dev/null 2>&1 && echo user; command -v nginx; command -v psql; true") == "")
                case "rollback":
                    // A second release first, so there is one to roll back from (the README's "if the new release misbehaves").
                    #expect(await run.shell("echo v1 > VERSION && git commit -qam v1").status == 0)
                    let second = try await run.swiftfab(["deploy"])
                    #expect(second.status == 0, "\(second.output)")
                    #expect(try await run.site("/version", https: true) == "v1")
                    let back = try await run.swiftfab(words)
                    #expect(back.status == 0 && back.output.contains("rolled back to"), "\(back.output)")
                    #expect(try await run.site("/version", https: true) == "v0")
                case "doctor":
                    try await run.doctorIsHealthy(words)
                default:
                    let result = try await run.swiftfab(words)
                    #expect(result.status == 0, "\(command): \(result.output)")
                    if words.first == "deploy" { deployed += 1 }
                }
            } else {
                Issue.record("the README's quick start has a step this test does not know how to take: \(command)")
            }
        }
        #expect(deployed == 1, "the quick start deploys once: \(commands)")
        // It ends in HTTPS: the CA's certificate for the name, and plain HTTP redirected to it.
        #expect(try await run.site("/version", https: true) == "v0")
        let redirect = await Shell.runLocally(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--max-time", "5",
                                               "-H", "Host: web1.example.com", "http://\(hosts.ip(1))/version"])
        #expect(redirect.output == "301 https://web1.example.com/version", "\(redirect.output)")
        // In seconds, as bench/quickstart.sh reads it.
        print("quick start on a fresh server, from a bare host to HTTPS: \(String(format: "%.1f", monotonicNow() - started)) s")

        // What a person does next: the results go to stdout, the logs show lines, the history says what happened.
        let backups = try await run.swiftfab(["backups"], stdoutOnly: true)
        #expect(backups.status == 0 && backups.output.hasPrefix("NAME") && backups.output.contains("shop-") && backups.output.contains("ok"), "\(backups.output)")
        for which in [[], ["proxy"], ["db"]] {
            let logs = try await run.swiftfab(["logs"] + which + ["-n", "5"])
            #expect(logs.status == 0 && logs.output.split(separator: "\n").contains { $0.hasPrefix("web1.example.com |") || $0.hasPrefix("==> ") || $0.contains(" | ") },
                    "logs \(which): \(logs.output)")
        }
        let history = try await run.swiftfab(["history"], stdoutOnly: true)
        #expect(history.status == 0 && history.output.contains("rollback") && history.output.contains("deploy"), "\(history.output)")
        let again = try await run.swiftfab(["provision", "--user", "root"])
        #expect(again.status == 0 && !again.output.contains("changed"), "a second provision changes nothing: \(again.output)")

        // A reboot: systemd starts nginx, PostgreSQL and the app's boot service; the live release serves again.
        try await hosts.reboot(1)
        try await waitFor("the site to serve again after the reboot", seconds: 60) { (try? await run.site("/version", https: true)) == "v0" }
        try await run.doctorIsHealthy(["doctor"])
    }
}

/// One person's machine for the quick start: a home with an ssh config that
/// names the server, an app in a git repository, and swiftfab run there.
final class QuickStartRun: @unchecked Sendable {
    let hosts: FreshHosts
    let index: Int
    let home: String
    let repository: String
    var environment: [String: String]

    let ca: PebbleCA

    init(hosts: FreshHosts, index: Int, ca: PebbleCA) throws {
        self.hosts = hosts
        self.index = index
        self.ca = ca
        let base = try TempDir.make().path
        home = base + "/home"
        repository = base + "/shop"
        let app = TestHosts.packageRoot + "/examples/shop"
        try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
        // The server's name reaches the fresh host, as DNS would; its key is the person's own.
        try """
            Host web1.example.com
                HostName \(hosts.ip(index))
                Port \(hosts.port)
                IdentityFile \(hosts.clientKey)
                IdentitiesOnly yes
            """.write(toFile: home + "/.ssh/config", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        for file in ["app.py", "serve.py"] {
            try FileManager.default.copyItem(atPath: app + "/" + file, toPath: repository + "/" + file)
        }
        try "v0\n".write(toFile: repository + "/VERSION", atomically: true, encoding: .utf8)
        environment = ["HOME": home, "NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache,
                       "GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@example.com", "GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "ann@example.com"]
        let made = Shell.runLocallyBlocking(["/bin/sh", "-c", "cd \(Shell.quote(repository)) && git init -q -b main . && git add -A && git commit -qm v0"], environment: environment)
        guard made.status == 0 else { throw SwiftFabError(.local, "git: \(made.output)") }
    }

    /// A shell command in the repository, with this person's environment.
    func shell(_ command: String) async -> (status: Int32, output: String) {
        await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(repository)) && " + command], environment: environment)
    }

    /// `swiftfab WORDS` in the repository; with `stdoutOnly`, what a pipe would read.
    func swiftfab(_ words: [String], stdoutOnly: Bool = false) async throws -> (status: Int32, output: String) {
        await shell(Shell.join([CLITests.binary] + words) + (stdoutOnly ? " 2>/dev/null" : " 2>&1") + " </dev/null")
    }

    /// `swiftfab WORDS` on a terminal, answering its question yes.
    func answeringYes(_ words: [String]) async -> (status: Int32, output: String) {
        let answer = """
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            out, answered = b"", False
            while True:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                out += data
                if not answered and b"[y/N]" in out:
                    os.write(fd, b"y\\n")
                    answered = True
            sys.stdout.buffer.write(out)
            sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            """
        return await shell(Shell.join(["/usr/bin/python3", "-c", answer, CLITests.binary] + words))
    }

    /// What the README leaves to the person: the lines marked `edit:`.
    func makeTheMarkedEdits() throws {
        let path = repository + "/Deployfile.swift"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        let key = try String(contentsOfFile: hosts.clientKey + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let edits = [
            ("let siteName = \"shop.example.com\"", "let siteName = \"web1.example.com\""),
            ("command: \"gunicorn --workers 2 --bind unix:{socket} app:app\",", "command: \"python3 serve.py {socket}\",             "),
            ("authorizedKeys: [],", "authorizedKeys: [\"\(key)\"],"),
            // HTTPS, as the line's edit: says, from the test CA instead of Let's Encrypt (whose certificate the server is given).
            ("proxy: NginxSite(hostname: siteName),", "proxy: NginxSite(hostname: siteName, tls: .acme(email: \"ann@example.com\", "
                + "directory: URL(string: \"\(ca.directoryFromAFreshHost)\")!, caBundle: \"/etc/ssl/certs/test-acme-ca.pem\")),"),
        ]
        for (marked, mine) in edits {
            guard text.contains(marked) else { throw SwiftFabError(.local, "the Deployfile init wrote has no line `\(marked)` to edit:\n\(text)") }
            text = text.replacingOccurrences(of: marked, with: mine)
        }
        try ("import Foundation\n" + text).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A root shell on the server (the test's own look, not the person's).
    func onHost(_ script: String, stdin: String? = nil) async throws -> String {
        var output = ""
        try await hosts.withConnection(hosts.alias(index)) { connection in
            output = try await connection.run(.raw(script), ExecOptions(stdin: stdin.map { Data($0.utf8) })).stdoutText
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return output
    }

    /// The site through the server's nginx (ports 80 and 443 forwarded to this machine), by its name;
    /// over HTTPS the certificate must be the test CA's for that name.
    func site(_ path: String, https: Bool = false) async throws -> String {
        let target = https ? ["--cacert", ca.root, "--resolve", "web1.example.com:443:\(hosts.ip(index))", "https://web1.example.com\(path)"]
            : ["-H", "Host: web1.example.com", "http://\(hosts.ip(index))\(path)"]
        let answer = await Shell.runLocally(["/usr/bin/curl", "-s", "--max-time", "5"] + target)
        return answer.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// doctor: every check ok and exit 0, but the load, which is this shared
    /// test machine's (a container sees the machine's load average): any
    /// verdict of it, and the exit code that verdict gives.
    func doctorIsHealthy(_ words: [String]) async throws {
        let doctor = try await swiftfab(words + ["--json"], stdoutOnly: true)
        let findings = doctor.output.split(separator: "\n").compactMap { line -> (check: String, status: String)? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let check = object["check"] as? String, let status = object["status"] as? String else { return nil }
            return (check, status)
        }
        #expect(!findings.isEmpty, "\(doctor.output)")
        let notOK = findings.filter { $0.status != "ok" && $0.check != "load" }
        #expect(notOK.isEmpty, "doctor: \(notOK) in \(doctor.output)")
        let load = findings.first { $0.check == "load" }?.status ?? "ok"
        #expect(doctor.status == ["ok": 0, "warn": 1, "fail": 2][load], "\(doctor.output)")
    }
}
