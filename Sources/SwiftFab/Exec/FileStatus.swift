import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// stat(2), following links; nil when the path cannot be read.
func fileStatus(_ path: String) -> stat? {
    // open(O_PATH) + fstat: the `stat` function's name clashes with its struct in Swift.
    let fd = Glibc.open(path, 0o10000000 /* O_PATH */ | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { Glibc.close(fd) }
    var info = stat()
    return fstat(fd, &info) == 0 ? info : nil
}

extension String {
    /// The path without trailing `suffix`es (`/srv/app//` is `/srv/app`; `/` stays `/`).
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.count > 1 && text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
