import Foundation

extension DeployfileCompiler {
    /// The compiler here is not the Swift the runtime was built with. Its
    /// modules and library match that compiler only, so swiftfab has to be
    /// built again with this one.
    public struct ToolchainMismatch: Error, CustomStringConvertible {
        public var built: String
        public var here: String
        /// How to rebuild: the install command for an installed prefix.
        public var remedy: String
        /// The compiler's first error, for the record.
        public var firstError: String?

        public var description: String {
            "swiftfab was built with Swift \(built), the compiler here is Swift \(here): \(remedy) with this toolchain"
                + (firstError.map { "\n  (the compiler said: \($0))" } ?? "")
        }
    }

    /// Called once a compile failed: nil when the compiler is the one the
    /// runtime was built with, or when either version cannot be read.
    func toolchainMismatch(errors: String) -> ToolchainMismatch? {
        guard let built = runtimeSwiftVersion(),
              let result = try? LocalProcess.run(Command(words: [swiftc, "--version"]), ExecOptions()), result.succeeded,
              let here = Self.swiftVersion(in: result.stdoutText + "\n" + result.stderrText),
              built != here else { return nil }
        // Two builds of one release differ only in what follows the number: show all of it then.
        let short = { (version: String) in String(version.prefix { $0 != " " }) }
        let (shownBuilt, shownHere) = short(built) == short(here) ? (built, here) : (short(built), short(here))
        let remedy = runtime.installPrefix.map { "reinstall swiftfab (scripts/install \($0))" } ?? "rebuild swiftfab (swift build)"
        let firstError = errors.split(separator: "\n").first { $0.contains("error:") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return ToolchainMismatch(built: shownBuilt, here: shownHere, remedy: remedy, firstError: firstError)
    }

    /// The compiler that built the runtime, as its module interface records it
    /// (`// swift-compiler-version: Swift version 6.3.1 (...)`, in the first lines).
    func runtimeSwiftVersion() -> String? {
        guard let file = FileHandle(forReadingAtPath: runtime.modules + "/SwiftFab.swiftinterface") else { return nil }
        defer { try? file.close() }
        let head = String(decoding: (try? file.read(upToCount: 4096)) ?? Data(), as: UTF8.self)
        return head.split(separator: "\n").first { $0.hasPrefix("// swift-compiler-version:") }.flatMap { Self.swiftVersion(in: String($0)) }
    }

    /// "6.3.1 (swift-6.3.1-RELEASE)" from the first line that says "Swift version"
    /// (`swiftc --version` on Linux; macOS's starts with the driver's own version).
    static func swiftVersion(in text: String) -> String? {
        for line in text.split(separator: "\n") {
            if let range = line.range(of: "Swift version ") {
                let version = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
                return version.isEmpty ? nil : version
            }
        }
        return nil
    }
}
