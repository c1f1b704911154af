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

    /// The Deployfile's bytes, read once: what is hashed is what is compiled.
    func readSource() throws -> Data {
        guard let source = FileManager.default.contents(atPath: deployfile) else {
            throw SwiftFabError(.config, "cannot read \(deployfile)", hint: "run swiftfab where Deployfile.swift is, or pass -f FILE (swiftfab init writes one)")
        }
        return source
    }

    /// The cache key of the Deployfile as it is now.
    public func cacheKey() throws -> String {
        cacheKey(for: try readSource())
    }

    /// The cache key: the file's bytes, swiftfab's version, and the identity
    /// (path, size and time) of the runtime library and of the compiler.
    /// No process is started to compute it, so a cached run starts fast.
    func cacheKey(for source: Data) -> String {
        var hasher = SHA256()
        hasher.update(data: source)
        hasher.update(data: Data(SwiftFabVersion.current.utf8))
        for path in identityFiles() {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let stamp = "\(path)|\(attributes?[.size] ?? 0)|\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
            hasher.update(data: Data(stamp.utf8))
        }
        return hasher.finalize().prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The files whose change must compile again, symlinks resolved: a
    /// `swiftc` link repointed at another toolchain is another compiler.
    func identityFiles() -> [String] {
        let driver = Self.resolved(swiftc)
        var files = [runtime.library + "/libSwiftFabRuntime.so", runtime.modules + "/SwiftFab.swiftmodule", driver]
        // The driver runs swift-frontend from its own folder: that is the compiler proper.
        if driver.hasPrefix("/") { files.append(URL(fileURLWithPath: driver).deletingLastPathComponent().path + "/swift-frontend") }
        return files.map(Self.resolved)
    }

    /// The file at the end of `path`'s symlinks (`path` itself when it cannot be resolved).
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// The compiled program, building it first when the cache has none. The
    /// cache folder and the program are checked first: only the user can
    /// have put them there.
    public func program() throws -> (path: String, compiled: Bool) {
        try CacheGuard.prepare(cacheDirectory)
        let source = try readSource()
        let binary = cacheDirectory + "/deployfile-" + cacheKey(for: source)
        if let descriptor = try CacheGuard.openProgram(binary) {
            close(descriptor)
            return (binary, false)
        }
        try compile(source, to: binary)
        return (binary, true)
    }

    /// The program (compiled if need be), opened for exec after its checks,
    /// so the file checked is the file that runs.
    public func openProgram() throws -> (descriptor: Int32, path: String, compiled: Bool) {
        let (binary, compiled) = try program()
        guard let descriptor = try CacheGuard.openProgram(binary) else {
            throw SwiftFabError(.local, "cannot run \(binary): it is gone or not executable", hint: "run swiftfab again")
        }
        return (descriptor, binary, compiled)
    }

    private func compile(_ source: Data, to binary: String) throws {
        let work = try PrivateFile.makeTemporaryDirectory(prefix: "build-", in: cacheDirectory)
        defer { TemporaryPaths.remove(work) }
        // A private copy of exactly the bytes hashed; errors still name the user's file and lines.
        let copy = work + "/Deployfile.swift"
        try PrivateFile.write(Data(Self.sourceLocation(deployfile).utf8) + source, to: copy)
        let main = work + "/main.swift" // only a file named main.swift may hold top-level code
        try PrivateFile.write(Data("import SwiftFab\nawait DeployfileMain.run(deployfile)\n".utf8), to: main)
        let output = work + "/deployfile"
        // The plain diagnostic style: the excerpt style numbers the copy's own lines, one off from the user's.
        let arguments = ["-module-name", "Deployfile", "-Onone", "-suppress-warnings", "-diagnostic-style=llvm",
                         "-I", runtime.modules, "-L", runtime.library, "-lSwiftFabRuntime",
                         "-Xlinker", "-rpath", "-Xlinker", runtime.library,
                         copy, main, "-o", output]
        let result = try LocalProcess.run(Command(words: [swiftc] + arguments), ExecOptions())
        guard result.succeeded else {
            let errors = result.stderrText.replacingOccurrences(of: copy, with: deployfile)
            throw SwiftFabError(.config, "Deployfile.swift does not compile:\n" + Self.explain(errors, main: main),
                                hint: "fix the lines named above; the Deployfile is Swift, checked by the compiler")
        }
        // The linker's mode follows the umask, and the cache refuses a program others could write.
        // The rename is atomic: a concurrent swiftfab never runs a half-written program.
        guard chmod(output, 0o700) == 0, rename(output, binary) == 0 else {
            throw SwiftFabError(.local, "cannot store the compiled Deployfile in \(cacheDirectory): \(String(cString: strerror(errno)))")
        }
    }

    /// Maps the copy's lines back to the user's file (the copy's second line
    /// is the file's first), for errors and for #filePath / #line in it.
    /// (The compiler shows a quote, backslash or newline in the name escaped.)
    static func sourceLocation(_ path: String) -> String {
        var literal = ""
        for scalar in path.unicodeScalars {
            switch scalar {
            case "\\": literal += "\\\\"
            case "\"": literal += "\\\""
            case "\n": literal += "\\n"
            default: literal.unicodeScalars.append(scalar)
            }
        }
        return "#sourceLocation(file: \"\(literal)\", line: 1)\n"
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
