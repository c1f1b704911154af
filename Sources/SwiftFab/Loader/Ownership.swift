import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether only the user could have written a file or folder, as OpenSSH's
/// StrictModes asks of authorized_keys and the folders above it: it belongs
/// to the user or to root (who can change anything anyway), and neither its
/// group nor others may write it.
enum Ownership {
    static func trusted(_ owner: uid_t) -> Bool { owner == getuid() || owner == 0 }

    static func octal(_ mode: mode_t) -> String { "0" + String(mode & 0o7777, radix: 8) }

    /// What lets someone else write it, said of "it"; nil when nothing does.
    static func problem(_ info: stat) -> String? {
        if !trusted(info.st_uid) { return "it belongs to another user (\(owner(info.st_uid)))" }
        if info.st_mode & 0o022 != 0 { return "it is writable by group or others (mode \(octal(info.st_mode)))" }
        return nil
    }

    /// `nobody, uid 65534` (`nobody` with `nameOnly`), or the number alone when no account has it.
    static func owner(_ uid: uid_t, nameOnly: Bool = false) -> String {
        guard let name = LocalAccount.passwordEntry(uid: uid)?.name else { return nameOnly ? "\(uid)" : "uid \(uid)" }
        return nameOnly ? name : "\(name), uid \(uid)"
    }
}
