import Foundation

/// Host and user names as OpenSSH's `ssh` accepts them from its command line
/// (readconf.c: `ssh_valid_hostname`, `ssh_valid_ruser`; CVE-2023-51385).
/// `%h`, `%n` and `%r` put these names into ProxyCommand, which `/bin/sh`
/// runs, so `web$(id)` is refused before the config is even read. What the
/// user wrote in the ssh config itself (HostName, a literal User, ProxyJump)
/// is not checked at parse time, as in OpenSSH: the config is the user's own.
/// Jump hosts are checked when used, as OpenSSH's `ssh` for the hop checks
/// its command line.
public enum SSHName {
    /// A name swiftfab will not use, with why and what is allowed.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// "host name \"web$(id)\" holds `$`"
        public var message: String
        /// What such a name may hold.
        public var hint: String
        public var description: String { message + "\n  " + hint }
        /// As the library reports it: a mistake in what it was given, found before connecting.
        public var error: SwiftFabError { SwiftFabError(.invalidInput, message, hint: hint) }
    }

    public static let hostRule =
        "a host name may not begin with - nor hold whitespace, control characters or any of ' ` \" $ \\ ; & < > | ( ) { } , (OpenSSH's ssh refuses them too)"
    public static let userRule =
        "a user name may not begin with - nor hold control characters or any of ' ` \" ; & < > | ( ) { }, nor have - after a space or end in \\ (OpenSSH's ssh refuses them too)"
    public static let knownHostsRule =
        "known_hosts takes one plain host name: no , * ? ! [ ] (patterns to it), no leading # or @, no spaces, line breaks or control characters, nor anything a host name may not hold (' ` \" $ \\ ; & < > | ( ) { }, a leading -)"

    /// Shell syntax, and `,` (a list separator in patterns, known_hosts and ProxyJump).
    private static let hostForbidden = Set("'`\"$\\;&<>|(){},".utf8)
    private static let userForbidden = Set("'`\";&<>|(){}".utf8)
    private static let patternCharacters = Set("*?![]".unicodeScalars)
    private static let breaksOrHides: Set<Unicode.GeneralCategory> = [.control, .format, .lineSeparator, .paragraphSeparator]

    /// Throws unless OpenSSH's `ssh` takes `name` as a host name.
    public static func checkHost(_ name: String, what: String = "host name") throws(Refusal) {
        if let problem = hostProblem(name) { throw Refusal(message: "\(what) \(RemoteName.quoted(name)) \(problem)", hint: hostRule) }
    }

    /// Throws unless OpenSSH's `ssh` takes `name` as a user name.
    public static func checkUser(_ name: String, what: String = "user name") throws(Refusal) {
        if let problem = userProblem(name) { throw Refusal(message: "\(what) \(RemoteName.quoted(name)) \(problem)", hint: userRule) }
    }

    /// Checks the host and user of `[user@]host[:port]`, as `SSHConnection.connect` splits it.
    public static func checkTarget(_ target: String) throws(Refusal) {
        let parsed = SSHConfig.parseTarget(target)
        try checkTarget(SSHTarget(user: parsed.user, host: parsed.host, port: parsed.port))
    }

    /// Checks a target's host and user.
    public static func checkTarget(_ target: SSHTarget) throws(Refusal) {
        try checkHost(target.host)
        if let user = target.user { try checkUser(user) }
    }

    /// Checks a ProxyJump hop as OpenSSH's ssh for that hop checks its command line.
    public static func checkJumpHost(_ hop: JumpHost) throws(Refusal) {
        try checkHost(hop.host, what: "ProxyJump host")
        if let user = hop.user { try checkUser(user, what: "ProxyJump user") }
    }

    /// Throws unless `name` can be written to known_hosts as the one host it
    /// names: `db.internal,*` would trust the key for every host.
    public static func checkKnownHostsName(_ name: String) throws(Refusal) {
        if let problem = hostProblem(name) ?? knownHostsProblem(name) {
            throw Refusal(message: "cannot record \(RemoteName.quoted(name)) in known_hosts: it \(problem)", hint: knownHostsRule)
        }
    }

    static func hostProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return "is empty" }
        if first == UInt8(ascii: "-") { return "begins with -, which ssh would read as an option" }
        if let bad = bytes.first(where: { hostForbidden.contains($0) || isCSpace($0) || isCControl($0) }) {
            return "holds " + describe(bad)
        }
        return nil
    }

    static func userProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return "is empty" }
        if first == UInt8(ascii: "-") { return "begins with -, which ssh would read as an option" }
        for (index, byte) in bytes.enumerated() {
            if isCControl(byte) || userForbidden.contains(byte) { return "holds " + describe(byte) }
            let next = index + 1 < bytes.count ? bytes[index + 1] : nil
            if isCSpace(byte) && next == UInt8(ascii: "-") { return "has - after " + describe(byte) }
            if byte == UInt8(ascii: "\\") && next == nil { return "ends in \\" }
        }
        return nil
    }

    /// Beyond OpenSSH's host rule: what known_hosts itself reads as syntax,
    /// and any Unicode space or line break (a reader splitting lines on them
    /// would see two entries).
    private static func knownHostsProblem(_ name: String) -> String? {
        if let first = name.unicodeScalars.first, first == "#" || first == "@" { return "begins with `\(first)`" }
        for scalar in name.unicodeScalars {
            if patternCharacters.contains(scalar) { return "holds `\(scalar)`" }
            if scalar.properties.isWhitespace || breaksOrHides.contains(scalar.properties.generalCategory) {
                return "holds " + String(format: "U+%04X", scalar.value)
            }
        }
        return nil
    }

    /// C's `isspace` and `iscntrl` in the C locale, as OpenSSH tests bytes.
    private static func isCSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
    private static func isCControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }

    private static func describe(_ byte: UInt8) -> String {
        switch byte {
        case 0x20: "a space"
        case 0x09: "a tab"
        case 0x0A: "a line break (\\n)"
        case 0x0D: "a carriage return (\\r)"
        case _ where isCSpace(byte) || isCControl(byte): "the control character " + String(format: "U+%04X", byte)
        case UInt8(ascii: "`"): "a backquote (`)"
        default: "`\(Character(UnicodeScalar(byte)))`"
        }
    }
}
