import Foundation
import Testing
@testable import SwiftFab

/// A fixed local account so results don't depend on who runs the tests.
private let env = ["HOME": "/home/tester", "USER": "alice"]

private func config(_ text: String, environment: [String: String] = env) -> SSHConfig {
    SSHConfig(text: text, path: "test_config", environment: environment)
}

private func resolve(_ text: String, _ alias: String, user: String? = nil, port: Int? = nil) -> ResolvedHost {
    config(text).resolve(alias, user: user, port: port, environment: env)
}

/// A fresh directory removed when `body` returns.
private func withTempDir<T>(_ body: (String) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sshconfig-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

private func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

@Suite struct SSHConfigTests {
    /// A Deployfile's host reaches the connection as a value: its address
    /// parsed once, the user and port given beside it winning, never
    /// formatted into text and parsed back.
    @Test func aDeployfileHostIsATargetValue() {
        #expect(Host("web1", user: "deploy", port: 2222).sshTarget == SSHTarget(user: "deploy", host: "web1", port: 2222))
        #expect(Host("web1").sshTarget == SSHTarget(host: "web1"))
        #expect(Host("::1", port: 2522).sshTarget == SSHTarget(host: "::1", port: 2522))
        #expect(Host("[::1]:2522").sshTarget == SSHTarget(host: "::1", port: 2522))
        #expect(Host("ann@db.internal:6022", user: "deploy").sshTarget == SSHTarget(user: "deploy", host: "db.internal", port: 6022))
        // What the label and the value say agree.
        for host in [Host("web1", user: "deploy", port: 2222), Host("::1", port: 2522), Host("alias")] {
            let parsed = SSHConfig.parseTarget(host.target)
            #expect(SSHTarget(user: parsed.user, host: parsed.host, port: parsed.port) == host.sshTarget, "\(host.target)")
        }
    }

    @Test func defaultsWithEmptyConfig() {
        let host = resolve("", "example.com")
        #expect(host == ResolvedHost(
            alias: "example.com", hostname: "example.com", user: "alice", port: 22,
            userKnownHostsFiles: ["/home/tester/.ssh/known_hosts", "/home/tester/.ssh/known_hosts2"],
            globalKnownHostsFiles: ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]))
        #expect(host.strictHostKeyChecking == .yes)
        #expect(host.serverAliveCountMax == 3)
        #expect(host.passwordAuthentication == false)
        #expect(host.identityFiles.isEmpty)
    }

    @Test func serverAliveIsOnByDefaultAndZeroTurnsItOff() {
        let unset = resolve("", "example.com")
        #expect(unset.serverAliveInterval == nil)  // what the config says
        #expect(unset.effectiveServerAliveInterval == ResolvedHost.defaultServerAliveInterval)
        // A dead host fails within about a minute: 3 probes 15 s apart go unanswered, plus 1 s for libssh2's clock.
        #expect(ResolvedHost.defaultServerAliveInterval * (unset.serverAliveCountMax + 1) + 1 <= 61)
        let off = resolve("Host *\n  ServerAliveInterval 0\n", "example.com")
        #expect(off.serverAliveInterval == 0 && off.effectiveServerAliveInterval == 0)
        let set = resolve("Host *\n  ServerAliveInterval 5\n  ServerAliveCountMax 2\n", "example.com")
        #expect(set.effectiveServerAliveInterval == 5 && set.serverAliveCountMax == 2)
        #expect(unset.tcpKeepAlive)
        #expect(!resolve("Host *\n  TCPKeepAlive no\n", "example.com").tcpKeepAlive)
    }

    @Test func wildcardPatterns() {
        let text = """
        Host *.example.com
          User web
        Host db?
          Port 2200
        """
        #expect(resolve(text, "a.example.com").user == "web")
        #expect(resolve(text, "A.EXAMPLE.COM").user == "web")  // host matching ignores case
        #expect(resolve(text, "example.com").user == "alice")
        #expect(resolve(text, "db1").port == 2200)
        #expect(resolve(text, "db12").port == 22)
    }

    @Test func negatedPatternExcludesBlockWhateverTheOrder() {
        let text = """
        Host *.example.com !secret.example.com
          User web
        Host !vault.example.com *.example.com
          Port 2222
        """
        #expect(resolve(text, "www.example.com").user == "web")
        #expect(resolve(text, "secret.example.com").user == "alice")
        #expect(resolve(text, "secret.example.com").port == 2222)
        #expect(resolve(text, "vault.example.com").port == 22)
        #expect(resolve(text, "vault.example.com").user == "web")
    }

    @Test func negationAloneNeverMatches() {
        // OpenSSH: a negated pattern only excludes; it never selects a block on its own.
        #expect(resolve("Host !other\n  User web", "mine").user == "alice")
    }

    @Test func firstObtainedValueWins() {
        let text = """
        Host web
          User first
          Port 2022
          Port 2023
        Host *
          User second
          Port 2222
          HostName fallback.example.com
        """
        let web = resolve(text, "web")
        #expect(web.user == "first")
        #expect(web.port == 2022)
        #expect(web.hostname == "fallback.example.com")
        let other = resolve(text, "other")
        #expect(other.user == "second")
        #expect(other.port == 2222)
    }

    @Test func syntaxVariants() {
        let text = """
        # leading comment
        HOSTNAME=real.example.com
        user = "bob smith"
        Port   2022   # trailing comment
        \tIdentityFile\t"/keys/with space"
        """
        let host = resolve(text, "x")
        #expect(host.hostname == "real.example.com")
        #expect(host.user == "bob smith")
        #expect(host.port == 2022)
        #expect(host.identityFiles == ["/keys/with space"])
    }

    @Test func crlfLineEndings() {
        let host = resolve("Host x\r\n  User crlf\r\n  Port 2\r\n", "x")
        #expect(host.user == "crlf")
        #expect(host.port == 2)
    }

    @Test func identityFilesAccumulateInOrderAndDeduplicate() {
        let text = """
        Host web
          IdentityFile ~/.ssh/id_web
          HostName 10.0.0.5
          User deploy
          Port 2222
        Host *
          IdentityFile %d/.ssh/id_%r@%h:%p
          IdentityFile ~/.ssh/id_web
        """
        let host = resolve(text, "web")
        #expect(host.identityFiles == [
            "/home/tester/.ssh/id_web",
            "/home/tester/.ssh/id_deploy@10.0.0.5:2222",
        ])
    }

    @Test func tokenExpansion() {
        let text = """
        Host *
          HostName %h.internal
          UserKnownHostsFile ~/.ssh/kh_%n_%u "%d/with space/100%%" ${SWIFTFAB_TEST_DIR}/kh
          IdentityFile /keys/%h/%r/%z
        """
        var environment = env
        environment["SWIFTFAB_TEST_DIR"] = "/from/env"
        let host = config(text).resolve("db", environment: environment)
        #expect(host.hostname == "db.internal")
        #expect(host.userKnownHostsFiles == [
            "/home/tester/.ssh/kh_db_alice",
            "/home/tester/with space/100%",
            "/from/env/kh",
        ])
        // Unknown tokens stay visible instead of silently vanishing.
        #expect(host.identityFiles == ["/keys/db.internal/alice/%z"])
    }

    @Test func accountFallsBackToPasswordDatabase() throws {
        let pw = try #require(getpwuid(getuid()))
        let host = config("IdentityFile ~root/id_root\nIdentityFile ~/id_mine").resolve("h", environment: [:])
        #expect(host.user == String(cString: pw.pointee.pw_name))
        let rootHome = try #require(getpwnam("root")).pointee.pw_dir.map { String(cString: $0) }
        #expect(host.identityFiles == ["\(rootHome ?? "?")/id_root", "\(String(cString: pw.pointee.pw_dir))/id_mine"])
    }

    @Test func knownHostsFileKeywords() {
        let text = """
        Host none
          UserKnownHostsFile none
          GlobalKnownHostsFile none
        Host two
          UserKnownHostsFile /a /b
          UserKnownHostsFile /c
          GlobalKnownHostsFile /etc/other
        """
        let none = resolve(text, "none")
        #expect(none.userKnownHostsFiles.isEmpty)
        #expect(none.globalKnownHostsFiles.isEmpty)
        // OpenSSH takes the first UserKnownHostsFile line (which may list several files).
        let two = resolve(text, "two")
        #expect(two.userKnownHostsFiles == ["/a", "/b"])
        #expect(two.globalKnownHostsFiles == ["/etc/other"])
    }

    @Test func typedOptions() {
        let text = """
        Host x
          StrictHostKeyChecking accept-new
          ConnectTimeout 1m30s
          ServerAliveInterval 15
          ServerAliveCountMax 5
          PasswordAuthentication yes
          IdentitiesOnly yes
          PreferredAuthentications publickey,password
          ForwardAgent yes
          SendEnv LANG LC_*
        Host no
          StrictHostKeyChecking off
        Host ask
          StrictHostKeyChecking ask
        """
        let x = resolve(text, "x")
        #expect(x.strictHostKeyChecking == .acceptNew)
        #expect(x.connectTimeout == 90)
        #expect(x.serverAliveInterval == 15)
        #expect(x.serverAliveCountMax == 5)
        #expect(x.passwordAuthentication)
        #expect(x.identitiesOnly)
        #expect(x.preferredAuthentications == ["publickey", "password"])
        #expect(x.extraOptions["forwardagent"] == ["yes"])
        #expect(x.extraOptions["sendenv"] == ["LANG", "LC_*"])
        #expect(resolve(text, "no").strictHostKeyChecking == .no)
        #expect(resolve(text, "ask").strictHostKeyChecking == .yes)
    }

    @Test func badValuesAreWarnedAndSkipped() {
        let cfg = config("""
        Host x
          Port http
          Port 2022
          StrictHostKeyChecking maybe
          User "unterminated
        """)
        #expect(cfg.resolve("x", environment: env).port == 2022)
        #expect(cfg.warnings.count == 3)
        #expect(cfg.warnings.first?.hasPrefix("test_config:2:") == true)
    }

    @Test func includeWithGlobRelativeToDotSSH() throws {
        try withTempDir { home in
            try write("Host alpha\n  HostName alpha.example.com\n", to: "\(home)/.ssh/conf.d/10-alpha.conf")
            try write("Host beta\n  Port 2200\n", to: "\(home)/.ssh/conf.d/20-beta.conf")
            try write("Port 2300\nHost gamma-only-never\n  User nobody\n", to: "\(home)/.ssh/gamma.conf")
            try write("User absolute\n", to: "\(home)/abs.conf")
            let text = """
            Include conf.d/*.conf
            Host gamma
              Include gamma.conf
              User gamma-user
            Host delta
              Include \(home)/abs.conf
            Host *
              User fallback
            """
            let environment = ["HOME": home, "USER": "alice"]
            let cfg = SSHConfig(text: text, environment: environment)
            #expect(cfg.warnings.isEmpty)
            #expect(cfg.resolve("alpha", environment: environment).hostname == "alpha.example.com")
            #expect(cfg.resolve("beta", environment: environment).port == 2200)
            // An Include inside a Host block only applies to that host, and after it the
            // block is still active even though the included file switched blocks.
            let gamma = cfg.resolve("gamma", environment: environment)
            #expect(gamma.port == 2300)
            #expect(gamma.user == "gamma-user")
            #expect(cfg.resolve("beta", environment: environment).user == "fallback")
            #expect(cfg.resolve("other", environment: environment).port == 22)
            #expect(cfg.resolve("delta", environment: environment).user == "absolute")
        }
    }

    @Test func includeRecursionIsBounded() throws {
        try withTempDir { home in
            try write("Include loop.conf\nUser looped\n", to: "\(home)/.ssh/loop.conf")
            let environment = ["HOME": home, "USER": "alice"]
            let cfg = SSHConfig(text: "Include loop.conf", environment: environment)
            #expect(cfg.resolve("x", environment: environment).user == "looped")
            #expect(cfg.warnings.contains { $0.contains("nested") })
        }
    }

    @Test func includeDepthLimitIsOpenSSHs() throws {
        try withTempDir { home in
            // level-N includes level-(N+1); OpenSSH reads files down to depth 16.
            for n in 1...20 {
                try write("IdentityFile /k/\(n)\nInclude level-\(n + 1).conf\n", to: "\(home)/.ssh/level-\(n).conf")
            }
            let environment = ["HOME": home, "USER": "alice"]
            let cfg = SSHConfig(text: "Include level-1.conf", environment: environment)
            #expect(cfg.resolve("x", environment: environment).identityFiles == (1...16).map { "/k/\($0)" })
            #expect(cfg.warnings.count == 1)
        }
    }

    @Test func loadMissingFiles() throws {
        try withTempDir { home in
            let environment = ["HOME": home, "USER": "alice"]
            // The default file may be absent.
            let empty = try SSHConfig.load(environment: environment)
            #expect(empty.resolve("h", environment: environment).hostname == "h")
            #expect(empty.path == "\(home)/.ssh/config")
            // Naming the default path explicitly is still "the default".
            #expect(try SSHConfig.load(path: "~/.ssh/config", environment: environment).warnings.isEmpty)
            // A file named explicitly must exist, and the error says which.
            let missing = "\(home)/nope.conf"
            #expect(throws: SSHConfigError.fileNotFound(path: missing)) {
                try SSHConfig.load(path: missing, environment: environment)
            }
            #expect(SSHConfigError.fileNotFound(path: missing).description.contains(missing))

            try write("Host h\n  Port 2201\n", to: "\(home)/.ssh/config")
            #expect(try SSHConfig.load(environment: environment).resolve("h", environment: environment).port == 2201)
            #expect(try SSHConfig.load(path: "~/.ssh/config", environment: environment)
                .resolve("h", environment: environment).port == 2201)
        }
    }

    @Test func matchHostUsesHostNameSoFar() {
        let cfg = config("""
        Host a
          HostName a.prod.example.com
        Match host *.prod.example.com
          User produser
        Match originalhost b
          Port 2202
        Match !host *.prod.example.com,b
          IdentityFile /keys/nonprod
        Match all
          ServerAliveInterval 30
        """)
        let a = cfg.resolve("a", environment: env)
        #expect(a.user == "produser")
        #expect(a.identityFiles.isEmpty)
        #expect(a.serverAliveInterval == 30)
        let b = cfg.resolve("b", environment: env)
        #expect(b.user == "alice")
        #expect(b.port == 2202)
        #expect(b.identityFiles.isEmpty)
        #expect(cfg.resolve("c", environment: env).identityFiles == ["/keys/nonprod"])
        #expect(cfg.warnings.isEmpty)
    }

    @Test func matchUserSeesExplicitUser() {
        let cfg = config("Match user root\n  Port 2222\n")
        #expect(cfg.resolve("h", user: "root", environment: env).port == 2222)
        #expect(cfg.resolve("h", environment: env).port == 22)
    }

    @Test func unsupportedMatchIsSkippedWithWarning() {
        let cfg = config("""
        Match exec "test -f /etc/hostname"
          User never
        Host *
          User everyone
        """)
        #expect(cfg.resolve("h", environment: env).user == "everyone")
        #expect(cfg.warnings.count == 1)
        #expect(cfg.warnings.first?.contains("exec") == true)
    }

    @Test func proxyCommandIsKeptAsWrittenWithItsTokensExpanded() {
        let text = """
        Host bastioned
          HostName 10.0.0.5
          User deploy
          Port 2200
          ProxyCommand ssh -W '%h:%p' -l "%r" jump.example   # 100%% %n
        Host eq
          ProxyCommand=nc %h %p
        Host nothing
          ProxyCommand none
        Host jumpfirst
          ProxyJump gw
          ProxyCommand nc %h %p
        Host commandfirst
          ProxyCommand nc %h %p
          ProxyJump gw
        Host *
          ProxyCommand cloudflared access ssh --hostname %h
        """
        // Quotes stay for the shell that runs it; %h %p %r %n %% as OpenSSH expands them.
        #expect(resolve(text, "bastioned").proxyCommand == #"ssh -W '10.0.0.5:2200' -l "deploy" jump.example   # 100% bastioned"#)
        #expect(resolve(text, "eq").proxyCommand == "nc eq 22")
        #expect(resolve(text, "nothing").proxyCommand == nil)
        // ProxyJump and ProxyCommand are one route: the first one given wins.
        #expect(resolve(text, "jumpfirst").proxyCommand == nil && resolve(text, "jumpfirst").proxyJump == [JumpHost(host: "gw")])
        #expect(resolve(text, "commandfirst").proxyCommand == "nc commandfirst 22" && resolve(text, "commandfirst").proxyJump == [])
        #expect(resolve(text, "web9").proxyCommand == "cloudflared access ssh --hostname web9")
        #expect(config(text).warnings.isEmpty)
    }

    @Test func directivesThatChangeTheRouteAreSaidNotDropped() {
        let text = """
        Host web1
          BindAddress 10.1.1.1
          HostKeyAlias shared-key
          AddressFamily any
        Host web2
          AddressFamily inet6
          CanonicalizeHostname no
          ControlMaster auto
        """
        let cfg = config(text)
        #expect(cfg.resolve("web1", environment: env).unsupportedRouteDirectives == ["BindAddress 10.1.1.1", "HostKeyAlias shared-key"])
        #expect(cfg.resolve("web2", environment: env).unsupportedRouteDirectives == ["AddressFamily inet6"])
        #expect(cfg.routeWarnings(for: ["deploy@web1:2222", "web3"], environment: env) == [
            "deploy@web1:2222: the ssh config sets BindAddress 10.1.1.1, which swiftfab does not support: it connects without it",
            "deploy@web1:2222: the ssh config sets HostKeyAlias shared-key, which swiftfab does not support: it connects without it",
        ])
    }

    @Test func proxyJumpChainsAndNone() {
        let text = """
        Host inner
          ProxyJump admin@bastion:2222,[fe80::1]:2200,ssh://ops@edge:2022,plainhost
        Host direct
          ProxyJump none
        Host *
          ProxyJump gw
        """
        #expect(resolve(text, "inner").proxyJump == [
            JumpHost(user: "admin", host: "bastion", port: 2222),
            JumpHost(host: "fe80::1", port: 2200),
            JumpHost(user: "ops", host: "edge", port: 2022),
            JumpHost(host: "plainhost"),
        ])
        #expect(resolve(text, "direct").proxyJump == [])
        #expect(resolve(text, "other").proxyJump == [JumpHost(host: "gw")])
        #expect(resolve("", "other").proxyJump == [])
        #expect(JumpHost(host: "fe80::1", port: 2200).description == "[fe80::1]:2200")
        #expect(config("ProxyJump a,,b").warnings.count == 1)
    }

    @Test(arguments: [
        ("host", nil, "host", nil),
        ("user@host", "user", "host", nil),
        ("user@host:2222", "user", "host", 2222),
        ("[::1]:2200", nil, "::1", 2200),
        ("u@[::1]", "u", "::1", nil),
        ("fe80::1", nil, "fe80::1", nil),
        ("ssh://u@h:2022", "u", "h", 2022),
        ("ssh://h/", nil, "h", nil),
        ("a@b@host:22", "a@b", "host", 22),
        ("host:notaport", nil, "host:notaport", nil),
        ("host:70000", nil, "host:70000", nil),
    ] as [(String, String?, String, Int?)])
    func parseTarget(input: String, user: String?, host: String, port: Int?) {
        let t = SSHConfig.parseTarget(input)
        #expect(t.user == user)
        #expect(t.host == host)
        #expect(t.port == port)
    }

    @Test func explicitUserAndPortOverrideConfig() {
        let text = """
        Host web
          User configured
          Port 2022
          IdentityFile ~/.ssh/id_%r_%p
        """
        let host = resolve(text, "web", user: "cli", port: 2200)
        #expect(host.user == "cli")
        #expect(host.port == 2200)
        #expect(host.identityFiles == ["/home/tester/.ssh/id_cli_2200"])
        let configured = resolve(text, "web")
        #expect(configured.user == "configured")
        #expect(configured.port == 2022)
    }
}
