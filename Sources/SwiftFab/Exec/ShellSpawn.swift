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
/// descriptors as its stdin, stdout and stderr, and no other: a descriptor
/// this process opened without close-on-exec (Foundation's pipes are such)
/// must not live on in a long-lived child, or whoever reads that pipe's other
/// end waits for the child as well.
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
        var flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        #if canImport(Darwin)
        flags |= POSIX_SPAWN_CLOEXEC_DEFAULT
        #else
        closeTheRest(&actions)
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(flags))
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

    #if !canImport(Darwin)
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc 2.34 and later close 3 and up in the child in one action (not in
    /// Swift's view of the headers, hence the lookup); before that, every
    /// descriptor open now is closed by name (one opened between this list
    /// and the start can still pass, as with any spawn without the action).
    private static let closeFrom: CloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    private static func closeTheRest(_ actions: inout posix_spawn_file_actions_t) {
        if let closeFrom, closeFrom(&actions, 3) == 0 { return }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }
    #endif
}
