internal import Crypto
import Foundation

/// Compiles Deployfile.swift into a program (as SwiftPM does Package.swift),
/// caches it by a hash of the file, the swiftfab version, the runtime and
/// the toolchain, and says where it is.
public struct DeployfileCompiler: Sendable {
    public var deployfile: String
    public var runtime: Runtime
    public var cacheDirectory: String
    public var swiftc: String
    /// With a compile error, also every message of the compiler, not only the plain ones (`-v`).
    public var showsCompilerMessages = false

    /// The compiler cannot be found or started: the toolchain is missing, not the Deployfile wrong.
    public struct CompilerUnavailable: Error, CustomStringConvertible {
        public var reason: String
        public var hint = "install a Swift 6 toolchain and put its usr/bin on PATH, or set SWIFTFAB_SWIFTC to its swiftc"

        public var description: String { "cannot compile the Deployfile: \(reason)\n  hint: \(hint)" }
    }

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
        var files = [runtime.libraryFile, runtime.modules + "/SwiftFab.swiftmodule", driver]
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

    /// Why `swiftc` cannot be run, when it names no executable file. (It is
    /// run through /bin/sh, which would only say "not found".)
    func unavailability(environment: [String: String] = ProcessInfo.processInfo.environment) -> CompilerUnavailable? {
        let explicit = environment["SWIFTFAB_SWIFTC"] == swiftc
        func unavailable(_ problem: String) -> CompilerUnavailable {
            var error = CompilerUnavailable(reason: (explicit ? "SWIFTFAB_SWIFTC is \(swiftc)" : "the Swift compiler \(swiftc)") + problem)
            if explicit { error.hint = "point SWIFTFAB_SWIFTC at the swiftc of a Swift 6 toolchain, or unset it to use the one on PATH" }
            return error
        }
        if swiftc.contains("/") {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: swiftc, isDirectory: &isFolder) else { return unavailable(", which does not exist") }
            return !isFolder.boolValue && FileManager.default.isExecutableFile(atPath: swiftc) ? nil : unavailable(", which is not an executable file")
        }
        let onPath = (environment["PATH"] ?? "").split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(swiftc)") }
        if onPath { return nil }
        return explicit ? unavailable(", which is not on PATH")
            : CompilerUnavailable(reason: "there is no swiftc on PATH, nor in /opt/swift/usr/bin or /usr/bin")
    }

    private func compile(_ source: Data, to binary: String) throws {
        if let unavailable = unavailability() { throw unavailable }
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
            // The shell's "cannot execute" and "not found": the compiler never ran.
            if [126, 127].contains(result.exitStatus) && !errors.contains(": error: ") {
                throw CompilerUnavailable(reason: "cannot start \(swiftc): " + errors.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            // Another Swift than the runtime's: no fix in the Deployfile would help.
            if let mismatch = toolchainMismatch(errors: errors) { throw mismatch }
            let report = DeployfileMistakes.explain(errors, source: source, deployfile: deployfile, main: main, full: showsCompilerMessages)
            throw SwiftFabError(.config, "Deployfile.swift does not compile:\n" + report.text,
                                hint: "fix the lines named above; the Deployfile is Swift, checked by the compiler"
                                    + (report.leavesOut ? " (-v shows all of its messages)" : ""))
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
}
