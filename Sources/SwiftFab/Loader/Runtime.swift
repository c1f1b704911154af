import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DeployfileCompiler {
    /// Where SwiftFab's module files and shared library are: one folder with
    /// the library and `Modules/` (a build folder, or PREFIX/lib/swiftfab).
    public struct Runtime: Sendable {
        public var modules: String
        public var library: String

        #if canImport(Darwin)
        public static let libraryName = "libSwiftFabRuntime.dylib"
        #else
        public static let libraryName = "libSwiftFabRuntime.so"
        #endif
        static let contents = "\(libraryName) and Modules/SwiftFab.swiftmodule"

        init(modules: String, library: String) {
            self.modules = modules
            self.library = library
        }

        public init(folder: String) {
            self.init(modules: folder + "/Modules", library: folder)
        }

        public var libraryFile: String { library + "/" + Self.libraryName }

        /// The prefix it was installed in (PREFIX/lib/swiftfab), nil for a build folder.
        public var installPrefix: String? {
            let folder = URL(fileURLWithPath: library).standardizedFileURL
            guard folder.path.hasSuffix("/lib/swiftfab") else { return nil }
            return folder.deletingLastPathComponent().deletingLastPathComponent().path
        }

        /// The library, and the module as a binary or as an interface (a later compiler reads that).
        var isComplete: Bool {
            let files = FileManager.default
            return files.fileExists(atPath: libraryFile)
                && (files.fileExists(atPath: modules + "/SwiftFab.swiftmodule") || files.fileExists(atPath: modules + "/SwiftFab.swiftinterface"))
        }

        /// `SWIFTFAB_RUNTIME` when set; else beside the running swiftfab, found
        /// from its own file so that a moved prefix still finds its runtime:
        /// its folder (a build folder) or ../lib/swiftfab (an installed prefix).
        public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment,
                                  executable: String? = nil) throws(RuntimeMissing) -> Runtime {
            if let folder = environment["SWIFTFAB_RUNTIME"], !folder.isEmpty {
                let runtime = Runtime(folder: folder)
                guard runtime.isComplete else { throw RuntimeMissing(override: folder) }
                return runtime
            }
            let binary = URL(fileURLWithPath: executable ?? ownExecutable())
            let bin = binary.deletingLastPathComponent()
            let candidates = [Runtime(folder: bin.path),
                              Runtime(folder: bin.deletingLastPathComponent().appendingPathComponent("lib/swiftfab").path)]
            guard let found = candidates.first(where: \.isComplete) else {
                throw RuntimeMissing(executable: binary.path, looked: candidates.map(\.library))
            }
            return found
        }

        /// This program's file, symlinks resolved (a `swiftfab` linked into
        /// PATH from its prefix is the prefix's): argv[0] can be anything.
        static func ownExecutable() -> String {
            #if os(Linux)
            if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
            #elseif canImport(Darwin)
            var size: UInt32 = 0
            _ = _NSGetExecutablePath(nil, &size)
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            if _NSGetExecutablePath(&buffer, &size) == 0 { return DeployfileCompiler.resolved(String(cString: buffer)) }
            #endif
            return DeployfileCompiler.resolved(searchPath(CommandLine.arguments[0]))
        }

        /// A command name as the shell found it on PATH; a path as it is.
        static func searchPath(_ name: String) -> String {
            guard !name.contains("/") else { return name }
            let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? name
        }
    }

    /// No runtime where it was looked for: swiftfab is not (fully) installed.
    public struct RuntimeMissing: Error, CustomStringConvertible {
        public var override: String?
        public var executable = ""
        public var looked: [String] = []

        init(override: String) { self.override = override }
        init(executable: String, looked: [String]) {
            self.executable = executable
            self.looked = looked
        }

        public var description: String {
            if let override {
                return "SWIFTFAB_RUNTIME is \(override), which holds no SwiftFab runtime (\(Runtime.contents))\n"
                    + "  hint: point it at the lib/swiftfab folder of an installed swiftfab, or unset it"
            }
            return "cannot find the SwiftFab runtime (\(Runtime.contents)) for \(executable): looked in \(looked.joined(separator: " and "))\n"
                + "  hint: install swiftfab with scripts/install PREFIX (the runtime goes to PREFIX/lib/swiftfab), or set SWIFTFAB_RUNTIME to its folder"
        }
    }
}
