import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts `/bin/sh -c TEXT` as local commands and ProxyCommand need it: in a
/// process group of its own (a time-out or hang-up reaches everything it
/// started; the terminal's Ctrl-C does not), with an empty signal mask and
/// default handlers whatever this process blocks or ignores, and the given
/// descriptors as its stdin, stdout and stderr.
enum ShellSpawn {
    /// The child's pid, or the error number of a start that failed.
    static func start(_ text: String, stdin: Int32, stdout: Int32, stderr: Int32) -> Result<pid_t, SwiftFabError> {
        // Structs in Glibc, opaque pointers that init allocates in Darwin.
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on 0, 1 and 2: the child keeps only those.
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(text), nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        return rc == 0 ? .success(pid) : .failure(SwiftFabError(.local, "cannot start /bin/sh: \(String(cString: strerror(rc)))"))
    }
}
