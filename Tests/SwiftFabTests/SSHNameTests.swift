import Foundation
import Testing
@testable import SwiftFab

/// Host and user names that reach a ProxyCommand (`%h`, `%n`, `%r`) are
/// checked as OpenSSH's ssh checks its command line (readconf.c:
/// ssh_valid_hostname, ssh_valid_ruser), before the config is applied: the
/// shell that runs ProxyCommand never sees `web$(id)`.
@Suite struct SSHNameTests {
    static let hostsOpenSSHTakes = [
        "web1", "web1.example.com", "10.0.0.1", "::1", "fe80::1%eth0", "under_score", "bücher.example", "host*", "a@b", "web~1",
        "x\u{2028}y",  // bytes above 0x7F are neither space nor control to ssh's C-locale checks
    ]
    static let hostsOpenSSHRefuses: [(String, String)] = [
        ("", "is empty"), ("-oProxyCommand=touch x", "begins with -"), ("web$(id)", "holds `$`"), ("web`id`", "holds a backquote (`)"),
        ("a;b", "holds `;`"), ("a&b", "holds `&`"), ("a|b", "holds `|`"), ("a<b", "holds `<`"), ("a>b", "holds `>`"),
        ("a(b", "holds `(`"), ("a)b", "holds `)`"), ("a{b", "holds `{`"), ("a}b", "holds `}`"), ("a'b", "holds `'`"),
        ("a\"b", "holds `\"`"), ("a\\b", "holds `\\`"), ("db.internal,*", "holds `,`"), ("a b", "holds a space"),
        ("a\tb", "holds a tab"), ("a\nb", "holds a line break"), ("a\rb", "holds a carriage return"),
        ("a\u{0B}b", "holds the control character U+000B"), ("a\u{0C}b", "holds the control character U+000C"),
        ("a\u{7F}b", "holds the control character U+007F"), ("a\u{1B}b", "holds the control character U+001B"),
        ("a\0b", "holds the control character U+0000"),
    ]
    static let usersOpenSSHTakes = ["deploy", "root", "first.last", "user@corp", "a$b", "DOMAIN\\user", "a b", "x-y", "Ärger", "a b-c"]
    static let usersOpenSSHRefuses: [(String, String)] = [
        ("", "is empty"), ("-l", "begins with -"), ("x`id`", "holds a backquote (`)"), ("x$(id)", "holds `(`"), ("a;b", "holds `;`"),
        ("a'b", "holds `'`"), ("a\"b", "holds `\"`"), ("a&b", "holds `&`"), ("a|b", "holds `|`"), ("a<b", "holds `<`"),
        ("a>b", "holds `>`"), ("a{b", "holds `{`"), ("a}b", "holds `}`"), ("a -oProxyCommand=x", "has - after a space"),
        ("a\t-x", "holds a tab"), ("ends\\", "ends in \\"), ("a\nb", "holds a line break"), ("a\u{7F}", "holds the control character U+007F"),
    ]

    @Test(arguments: hostsOpenSSHTakes) func hostNamesOpenSSHTakes(_ name: String) throws {
        try SSHName.checkHost(name)
    }

    @Test(arguments: hostsOpenSSHRefuses) func hostNamesOpenSSHRefuses(_ name: String, _ why: String) {
        #expect(SSHName.hostProblem(name)?.hasPrefix(why) == true, "\(RemoteName.quoted(name)): \(String(describing: SSHName.hostProblem(name)))")
    }

    @Test(arguments: usersOpenSSHTakes) func userNamesOpenSSHTakes(_ name: String) throws {
        try SSHName.checkUser(name)
    }

    @Test(arguments: usersOpenSSHRefuses) func userNamesOpenSSHRefuses(_ name: String, _ why: String) {
        #expect(SSHName.userProblem(name)?.hasPrefix(why) == true, "\(RemoteName.quoted(name)): \(String(describing: SSHName.userProblem(name)))")
    }

    /// known_hosts names one host per entry: no patterns, no list, no second line.
    @Test func knownHostsTakesOnlyOnePlainHost() throws {
        for name in ["db.internal", "10.0.0.5", "::1", "fe80::1%eth0", "bücher.example"] {
            try SSHName.checkKnownHostsName(name)
        }
        let refused = ["db.internal,*", "*", "db?", "!x", "[x]", "x]", "a b", "a\tb", "a\nb", "a\u{2028}b", "a\u{00A0}b", "a\u{0085}b",
                       "#x", "@revoked", "a|b", "-x", ""]
        for name in refused {
            #expect(throws: SSHName.Refusal.self, "\(RemoteName.quoted(name))") { try SSHName.checkKnownHostsName(name) }
        }
    }

    /// The message names the value, escaped so it cannot rewrite the terminal, and what is allowed.
    @Test func aRefusalNamesTheValueAndTheRule() {
        #expect(throws: SSHName.Refusal(message: #"host name "web$(id>FILE)" holds `$`"#, hint: SSHName.hostRule)) {
            try SSHName.checkTarget("web$(id>FILE)")
        }
        #expect(throws: SSHName.Refusal(message: #"user name "x`id`" holds a backquote (`)"#, hint: SSHName.userRule)) {
            try SSHName.checkTarget("x`id`@web:2222")
        }
        #expect(throws: SSHName.Refusal(message: #"host name "a\nb\u{1B}[2J" holds a line break (\n)"#, hint: SSHName.hostRule)) {
            try SSHName.checkHost("a\nb\u{1B}[2J")
        }
    }

    /// -H and -u of a task run: refused before the config is read (exit 64).
    @Test func aTaskCommandLineRefusesHostileNames() {
        let deployfile = Deployfile("t") { Task("t", "Do nothing") { Run("true") } }
        func selection(hosts: String, user: String? = nil) -> CommandLineError? {
            var globals = GlobalOptions()
            globals.hosts = hosts
            globals.user = user
            do throws(CommandLineError) { _ = try HostSelection(deployfile: deployfile, globals: globals); return nil } catch { return error }
        }
        #expect(selection(hosts: "web1,deploy@web2:2222") == nil)
        #expect(selection(hosts: "web1,web$(touch x)")?.message == #"-H: host name "web$(touch x)" holds `$`"#)
        #expect(selection(hosts: "x`id`@web")?.message == #"-H: user name "x`id`" holds a backquote (`)"#)
        #expect(selection(hosts: "web", user: "x`id`")?.message == #"--user: user name "x`id`" holds a backquote (`)"#)
        #expect(selection(hosts: "web", user: "x`id`")?.hint == SSHName.userRule)
    }

    /// A Deployfile's hosts are checked with the Deployfile, before any run.
    @Test func aDeployfileHostOrUserSshWouldRefuseIsAMistake() {
        let deployfile = Deployfile("t") {
            Environment("production") { Host("web$(id)"); Host("db", user: "x;id"); Host("ok.example", user: "deploy") }
            Task("t", "Do nothing") { Run("true") }
        }
        let problems = DeployfileCheck(deployfile: deployfile, deployfileDirectory: "/tmp").structuralProblems()
        #expect(problems == [
            #"environment production: host name "web$(id)" holds `$`; "# + SSHName.hostRule,
            #"environment production: user name "x;id" holds `;`; "# + SSHName.userRule,
        ])
    }
}

/// The real thing: a ProxyCommand run by /bin/sh, and a name that would make
/// that shell run a command. The command must never run.
@Suite struct ProxyCommandNameTests {
    let dir: String
    init() throws { dir = try TempDir.make().path }

    var marker: String { dir + "/ran" }

    func config(_ text: String) throws -> (SSHConfig, ConnectionOptions) {
        try text.write(toFile: dir + "/config", atomically: true, encoding: .utf8)
        let options = ConnectionOptions(configFile: dir + "/config", connectTimeout: 5, interactive: false,
                                        environment: ["HOME": dir, "USER": "tester"])
        return (try options.loadConfig(), options)
    }

    func expectRefused(_ target: String, _ config: (SSHConfig, ConnectionOptions), saying text: String) async {
        await #expect { _ = try await SSHConnection.connect(target, config: config.0, options: config.1) } throws: { error in
            let failure = error as? SwiftFabError
            return failure?.kind == .invalidInput && failure?.message.contains(text) == true
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "the name ran a command")
    }

    @Test func aHostileHostNeverReachesTheShell() async throws {
        let cfg = try config("Host *\n  ProxyCommand nc %h %p\n")
        await expectRefused("web$(touch \(marker))", cfg, saying: "holds `$`")
        await expectRefused("web`touch \(marker)`:2222", cfg, saying: "holds a backquote (`)")
    }

    @Test func aHostileUserNeverReachesTheShell() async throws {
        let cfg = try config("Host *\n  ProxyCommand ssh -F /dev/null -o BatchMode=yes -W %h:%p -l %r -p 9 127.0.0.1\n")
        await expectRefused("x`touch \(marker)`@web", cfg, saying: "user name")
    }

    /// A hop is checked as OpenSSH's ssh for that hop checks its command line.
    @Test func aHostileJumpHostNeverReachesTheShell() async throws {
        let cfg = try config("""
            Host inner
              ProxyJump j$(touch${IFS}\(marker))
            Host inner2
              ProxyJump u`touch${IFS}\(marker)`@bastion
            Host bastion
              ProxyCommand sh -c 'exit 1' %r
            Host *
              ProxyCommand nc %h %p

            """)
        await expectRefused("inner", cfg, saying: "ProxyJump host")
        await expectRefused("inner2", cfg, saying: "ProxyJump user")
    }

    /// `swiftfab TASK -u USER` through a Deployfile's command line, in process.
    @Test func aTaskRunWithAHostileUserStopsAt64() async throws {
        try "Host *\n  ProxyCommand sh -c 'exit 1' %r\n".write(toFile: dir + "/config", atomically: true, encoding: .utf8)
        let deployfile = Deployfile("t") { Task("t", "Do nothing") { Run("true") } }
        let cli = TaskCLI(deployfile: deployfile, deployfilePath: dir + "/Deployfile.swift")
        // No space in it: the older check (no `@`, no space) let it through.
        let code = await cli.main(["t", "-H", "web", "-u", "x`touch${IFS}\(marker)`", "-F", dir + "/config"])
        #expect(code == 64)
        #expect(!FileManager.default.fileExists(atPath: marker), "the name ran a command")
    }
}
