import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// stat(2), following links; nil when the path cannot be read.
func fileStatus(_ path: String) -> stat? {
    // fstatat: the `stat` function's name clashes with its struct in Swift; no descriptor needed (nor Linux's O_PATH).
    var info = stat()
    return fstatat(AT_FDCWD, path, &info, 0) == 0 ? info : nil
}

extension String {
    /// The path without trailing `suffix`es (`/srv/app//` is `/srv/app`; `/` stays `/`).
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.count > 1 && text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
