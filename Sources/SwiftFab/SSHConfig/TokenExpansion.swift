import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Local account facts used for defaults and `%` tokens. Environment first so tests
/// (and sudo-like wrappers) can inject them; the password database as fallback.
struct LocalAccount: Sendable {
    var user: String
    var home: String

    init(environment: [String: String]) {
        let env = { (name: String) in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let pw = (env("USER") == nil || env("HOME") == nil) ? Self.passwordEntry(uid: getuid()) : nil
        user = env("USER") ?? pw?.name ?? "root"
        home = env("HOME") ?? pw?.home ?? "/"
    }

    /// Reentrant lookups: tests resolve hosts concurrently, and getpwuid's static buffer isn't safe.
    static func passwordEntry(uid: uid_t) -> (name: String, home: String)? {
        lookup { getpwuid_r(uid, &$0, $1, $2, &$3) }
    }

    static func passwordEntry(name: String) -> (name: String, home: String)? {
        lookup { getpwnam_r(name, &$0, $1, $2, &$3) }
    }

    private static func lookup(
        _ call: (inout passwd, UnsafeMutablePointer<CChar>, Int, inout UnsafeMutablePointer<passwd>?) -> Int32
    ) -> (name: String, home: String)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        return buffer.withUnsafeMutableBufferPointer { buf in
            // The strings point into `buf`, so copy them out before it goes away.
            guard call(&entry, buf.baseAddress!, buf.count, &result) == 0, result != nil,
                  let name = entry.pw_name, let dir = entry.pw_dir else { return nil }
            return (String(cString: name), String(cString: dir))
        }
    }
}

/// Expansion of `~`, `%x` tokens and `${VAR}` in path-like ssh_config values.
struct TokenExpander {
    var home: String
    var environment: [String: String]
    var tokens: [Character: String]

    /// OpenSSH order: tilde first, then `%` and `${}`.
    func expand(_ value: String) -> String {
        expandDollar(Self.expandPercent(Self.expandTilde(value, home: home), tokens: tokens))
    }

    /// `~` and `~/x` use our home; `~user/x` looks the user up; anything else is unchanged.
    static func expandTilde(_ value: String, home: String) -> String {
        guard value.hasPrefix("~") else { return value }
        let slash = value.firstIndex(of: "/") ?? value.endIndex
        let name = value[value.index(after: value.startIndex)..<slash]
        let rest = value[slash...]
        if name.isEmpty { return home + rest }
        guard let pw = LocalAccount.passwordEntry(name: String(name)) else { return value }
        return pw.home + rest
    }

    /// Unknown tokens are left as written rather than failing, so a typo shows up in the path.
    /// Scalars, as ssh reads bytes: `%h` followed by a combining mark is still `%h`.
    static func expandPercent(_ value: String, tokens: [Character: String]) -> String {
        var out = String.UnicodeScalarView()
        var scalars = value.unicodeScalars.makeIterator()
        while let c = scalars.next() {
            guard c == "%" else { out.append(c); continue }
            guard let key = scalars.next() else { out.append("%"); break }
            if key == "%" {
                out.append("%")
            } else if let v = tokens[Character(key)] {
                out.append(contentsOf: v.unicodeScalars)
            } else {
                out.append("%")
                out.append(key)
            }
        }
        return String(out)
    }

    /// `${NAME}` from the environment; an unset variable is left literal.
    private func expandDollar(_ value: String) -> String {
        guard value.contains("${") else { return value }
        var out = ""
        var rest = Substring(value)
        while let open = rest.range(of: "${"), let close = rest[open.upperBound...].firstIndex(of: "}") {
            out += rest[..<open.lowerBound]
            let name = String(rest[open.upperBound..<close])
            out += environment[name] ?? String(rest[open.lowerBound...close])
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}
