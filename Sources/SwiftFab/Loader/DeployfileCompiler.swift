internal import Crypto
import Foundation

/// Compiles Deployfile.swift into a program (as SwiftPM does Package.swift),
/// caches it by a hash of the file, the swiftfab version, the runtime and
/// the toolchain, and says where it is.
public struct DeployfileCompiler: Sendable {
    /// Where SwiftFab's module files and shared library are.
    public struct Runtime: Sendable {
        public var modules: String
        public var library: String

        /// Beside the running `swiftfab`: a build folder (`Modules/`) or an
        /// installed prefix (`bin/swiftfab` with `lib/swiftfab/`).
        public static func locate(executable: String = CommandLine.arguments[0]) -> Runtime? {
            let binary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? executable)
            let directory = binary.deletingLastPathComponent()
            let candidates = [
                Runtime(modules: directory.appendingPathComponent("Modules").path, library: directory.path),
                Runtime(modules: directory.deletingLastPathComponent().appendingPathComponent("lib/swiftfab/Modules").path,
                        library: directory.deletingLastPathComponent().appendingPathComponent("lib/swiftfab").path),
            ]
            return candidates.first { FileManager.default.fileExists(atPath: $0.modules + "/SwiftFab.swiftmodule")
                && FileManager.default.fileExists(atPath: $0.library + "/libSwiftFabRuntime.so") }
        }
    }

    public var deployfile: String
    public var runtime: Runtime
    public var cacheDirectory: String
    public var swiftc: String

    public init(deployfile: String, runtime: Runtime, cacheDirectory: String = Self.defaultCacheDirectory(), swiftc: String? = nil) {
        self.deployfile = deployfile
        self.runtime = runtime
        self.cacheDirectory = cacheDirectory
        self.swiftc = swiftc ?? Self.findSwiftc()
    }

    public static func defaultCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let cache = environment["SWIFTFAB_CACHE_DIR"] { return cache }
        let base = environment["XDG_CACHE_HOME"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.cache")
        return base + "/swiftfab"
    }

    static func findSwiftc(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["SWIFTFAB_SWIFTC"] { return explicit }
        for directory in (environment["PATH"] ?? "").split(separator: ":") + ["/opt/swift/usr/bin", "/usr/bin"] {
            let path = "\(directory)/swiftc"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return "swiftc"
    }

    /// The cache key: the file's bytes, swiftfab's version, and the identity
    /// (size and time) of the runtime library and of the compiler. No process
    /// is started to compute it, so a cached run starts fast.
    public func cacheKey() throws -> String {
        guard let source = FileManager.default.contents(atPath: deployfile) else {
            throw SwiftFabError(.config, "cannot read \(deployfile)", hint: "run swiftfab where Deployfile.swift is, or pass -f FILE (swiftfab init writes one)")
        }
        var hasher = SHA256()
        hasher.update(data: source)
        hasher.update(data: Data(SwiftFabVersion.current.utf8))
        for path in [runtime.library + "/libSwiftFabRuntime.so", runtime.modules + "/SwiftFab.swiftmodule", swiftc] {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let stamp = "\(path)|\(attributes?[.size] ?? 0)|\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
            hasher.update(data: Data(stamp.utf8))
        }
        return hasher.finalize().prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The compiled program, building it first when the cache has none.
    public func program() throws -> (path: String, compiled: Bool) {
        let binary = cacheDirectory + "/deployfile-" + (try cacheKey())
        if FileManager.default.isExecutableFile(atPath: binary) { return (binary, false) }
        try compile(to: binary)
        return (binary, true)
    }

    private func compile(to binary: String) throws {
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        let work = cacheDirectory + "/build-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let main = work + "/main.swift" // only a file named main.swift may hold top-level code
        try "import SwiftFab\nawait DeployfileMain.run(deployfile)\n".write(toFile: main, atomically: true, encoding: .utf8)
        let output = work + "/deployfile"
        let arguments = ["-module-name", "Deployfile", "-Onone", "-suppress-warnings",
                         "-I", runtime.modules, "-L", runtime.library, "-lSwiftFabRuntime",
                         "-Xlinker", "-rpath", "-Xlinker", runtime.library,
                         deployfile, main, "-o", output]
        let result = try LocalProcess.run(Command(words: [swiftc] + arguments), ExecOptions())
        guard result.succeeded else {
            throw SwiftFabError(.config, "Deployfile.swift does not compile:\n" + Self.explain(result.stderrText, main: main),
                                hint: "fix the lines named above; the Deployfile is Swift, checked by the compiler")
        }
        // Atomic: a concurrent swiftfab never runs a half-written program.
        guard rename(output, binary) == 0 else {
            throw SwiftFabError(.local, "cannot store the compiled Deployfile in \(cacheDirectory): \(String(cString: strerror(errno)))")
        }
    }

    /// Compiler errors point at the Deployfile's own lines; an error in our
    /// generated main means the Deployfile lacks `let deployfile = ...`.
    static func explain(_ errors: String, main: String) -> String {
        if errors.contains(main) && errors.contains("cannot find 'deployfile' in scope") {
            return "  it must declare `let deployfile = Deployfile(\"name\") { ... }` at the top level"
        }
        return errors.split(separator: "\n").filter { !$0.contains(main) }.map { "  " + $0 }.joined(separator: "\n")
    }
}
