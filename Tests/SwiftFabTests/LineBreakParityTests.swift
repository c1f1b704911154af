import Foundation
import Testing
@testable import SwiftFab

/// ssh_config and known_hosts read as OpenSSH reads them: a line ends at
/// `\n` only, arguments split on space and tab only. Swift's own line breaks
/// (U+2028, U+2029, NEL, VT, FF, a lone CR) and other Unicode spaces are
/// plain characters to ssh, so `# managed<U+2028>ProxyCommand x` is a comment.
/// Every case is put to the real `ssh -G` and `ssh-keygen -l -F`.
@Suite struct LineBreakParityTests {
    static let separators: [(name: String, text: String)] = [
        ("U+2028", "\u{2028}"), ("U+2029", "\u{2029}"), ("NEL", "\u{0085}"), ("VT", "\u{0B}"), ("FF", "\u{0C}"), ("CR", "\r"),
        ("NBSP", "\u{00A0}"), ("ideographic space", "\u{3000}"), ("combining acute", "\u{0301}"), ("tab", "\t"), ("space", " "),
    ]

    /// Lines with `{s}` where a separator goes; each ends the line it is on.
    static let configLines = [
        "  # managed{s}ProxyCommand touch /nonexistent/pwned",
        "  HostName real.example # note{s}ProxyCommand evil",
        "Host web{s}other",
        "Host other{s}web",
        "  HostName a{s}b.example",
        "  Port 2202{s}",
        "  {s}User lead",
        "  User{s}sep",
        "  ProxyCommand nc -q0 relay.example 22{s}",
        "  ProxyCommand nc relay{s}x 22",
        "{s}Host web",
        "  User \"quoted{s}user\"",
        "  HostName=={s}x.example",
    ]
    /// Last, so every value is set whatever the lines above did.
    static let fallback = "Host *\n  HostName fallback.example\n  User fallback\n  Port 2999\n"

    let dir: String
    init() throws { dir = try TempDir.make().path }

    /// hostname, port, user and proxycommand as `ssh -G` prints them; nil when ssh refuses the file.
    func openssh(_ text: String, host: String) async throws -> [String: String]? {
        let path = dir + "/config-\(UUID().uuidString.prefix(8))"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let run = await Shell.runLocally(["/usr/bin/ssh", "-G", "-F", path, host])
        guard run.status == 0 else { return nil }
        var values: [String: String] = [:]
        for line in run.output.unicodeScalars.split(separator: "\n").map({ String(String.UnicodeScalarView($0)) }) {
            guard let space = line.firstIndex(of: " ") else { continue }
            let key = String(line[..<space])
            if ["hostname", "port", "user", "proxycommand"].contains(key) { values[key] = String(line[line.index(after: space)...]) }
        }
        return values
    }

    func swiftfab(_ text: String, host: String) -> [String: String] {
        let environment = ["HOME": dir, "USER": "tester"]
        let resolved = SSHConfig(text: text, path: "config", environment: environment).resolve(host, environment: environment)
        var values = ["hostname": resolved.hostname, "port": String(resolved.port), "user": resolved.user]
        values["proxycommand"] = resolved.proxyCommand
        return values
    }

    /// Whenever ssh takes the file, swiftfab resolves what ssh resolves.
    func expectSame(_ text: String, host: String = "web") async throws {
        guard let theirs = try await openssh(text, host: host) else { return }
        let ours = swiftfab(text, host: host)
        #expect(ours == theirs, "config \(RemoteName.quoted(text))")
    }

    @Test func aCommentHidesWhatFollowsAUnicodeLineBreak() async throws {
        for separator in ["\u{2028}", "\u{2029}", "\u{0085}", "\u{0B}", "\u{0C}"] {
            let text = "Host web\n  # managed\(separator)ProxyCommand touch /nonexistent/pwned\n" + Self.fallback
            #expect(swiftfab(text, host: "web")["proxycommand"] == nil)
            let theirs = try #require(try await openssh(text, host: "web"))
            #expect(theirs["proxycommand"] == nil)
        }
    }

    @Test(arguments: separators) func everySeparatorInEveryPlace(_ separator: (name: String, text: String)) async throws {
        for line in Self.configLines {
            let text = "Host web\n" + line.replacingOccurrences(of: "{s}", with: separator.text) + "\n" + Self.fallback
            try await expectSame(text)
        }
    }

    /// Random configs from the lines above, random separators, CRLF or not.
    @Test func randomSeparatorsAgreeWithSSH() async throws {
        var random = SplitMix64(seed: 0x5EED)
        for _ in 0..<60 {
            var text = random.next() % 2 == 0 ? "" : "Host web\n"
            for _ in 0..<(2 + Int(random.next() % 4)) {
                let line = Self.configLines[Int(random.next() % UInt64(Self.configLines.count))]
                let separator = Self.separators[Int(random.next() % UInt64(Self.separators.count))].text
                text += line.replacingOccurrences(of: "{s}", with: separator) + (random.next() % 3 == 0 ? "\r\n" : "\n")
            }
            try await expectSame(text + Self.fallback)
        }
    }

    /// `%h` followed by a combining mark is still `%h` to ssh, which reads bytes.
    @Test func tokensAreReadAsScalars() {
        #expect(TokenExpander.expandPercent("nc %h\u{0301} %p", tokens: ["h": "web", "p": "22"]) == "nc web\u{0301} 22")
    }

    /// A new key made by ssh-keygen: its type, its base64 and its blob.
    func generatedKey() async throws -> (type: String, base64: String, key: [UInt8]) {
        let keyPath = dir + "/key"
        #expect(await Shell.runLocally(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyPath]).status == 0)
        let pub = try String(contentsOfFile: keyPath + ".pub", encoding: .utf8).split(separator: " ")
        return (String(pub[0]), String(pub[1]), try #require(Data(base64Encoded: String(pub[1])).map(Array.init)))
    }

    /// Whether `ssh-keygen -l -F host` finds a valid entry for `host` in `text`, and whether swiftfab trusts `key` for it.
    func verdicts(_ text: String, host: String, type: String, key: [UInt8]) async throws -> (openssh: Bool, swiftfab: Bool) {
        let path = dir + "/known_hosts"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let found = await Shell.runLocally(["/usr/bin/ssh-keygen", "-l", "-F", host, "-f", path]).status == 0
        let verdict = try KnownHosts(paths: [path]).check(host: host, port: 22, keyType: type, key: key)
        return (found, verdict == .trusted(file: path, line: 1))
    }

    /// Only ASCII letters fold, as in ssh: the Kelvin sign (U+212A) is not `k`.
    @Test func hostNamesFoldOnlyASCIILetters() async throws {
        let (type, base64, key) = try await generatedKey()
        for (entry, host) in [("\u{212A}ey.example", "key.example"), ("KEY.example", "key.example"), ("key.example", "KEY.EXAMPLE")] {
            let both = try await verdicts("\(entry) \(type) \(base64)\n", host: host, type: type, key: key)
            #expect(both.openssh == both.swiftfab, "\(entry) for \(host): ssh-keygen found it: \(both.openssh)")
        }
    }

    /// A known_hosts entry swiftfab trusts is one `ssh-keygen -l -F` finds, and the other way round.
    @Test func knownHostsLinesAgreeWithSSHKeygen() async throws {
        let (type, base64, key) = try await generatedKey()
        let half = base64.index(base64.startIndex, offsetBy: 20)
        let lines = [
            "# old entry{s}db.internal \(type) \(base64)", "other.example{s}db.internal \(type) \(base64)", "db.internal{s}x \(type) \(base64)",
            "db.internal \(type) \(base64){s}", "db.internal \(type){s}\(base64)", "{s}db.internal \(type) \(base64)",
            "#{s},db.internal \(type) \(base64)", "!{s}x,db.internal \(type) \(base64)", "db.internal \(type) \(base64) # c{s}",
            "db.internal \(type) \(base64[..<half]){s}\(base64[half...])", "db.internal,{s}other \(type) \(base64)",
        ]
        for separator in Self.separators.map(\.text) + ["\0"] {
            for template in lines {
                let text = template.replacingOccurrences(of: "{s}", with: separator) + "\n"
                let both = try await verdicts(text, host: "db.internal", type: type, key: key)
                #expect(both.openssh == both.swiftfab, "\(RemoteName.quoted(text)): ssh-keygen found it: \(both.openssh)")
            }
        }
    }
}
