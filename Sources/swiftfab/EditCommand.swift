import ArgumentParser
import Foundation
import SwiftFab

/// `swiftfab edit`: the Deployfile inside a small Swift package, so an
/// editor's Swift support (which reads packages) offers completion and
/// definitions for the DSL. The package names the runtime this swiftfab
/// compiles Deployfiles against, and links to the Deployfile itself: what
/// is edited there is the real file.
struct EditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Set the Deployfile up for an editor: completion and definitions, from a Swift package in .swiftfab/edit."
    )

    @Option(name: [.customShort("f"), .customLong("file")], help: "The Deployfile (default: the nearest Deployfile.swift).")
    var file: String?

    func run() throws {
        let search = DeployfileSearch.here()
        let path = file ?? Launcher.discoverDeployfile(search) ?? Launcher.defaultName
        guard FileManager.default.fileExists(atPath: path) else {
            CLI.warn((file == nil ? "no \(path) \(search.searched)." : "no \(path) here.") + " `swiftfab init` writes one")
            throw ExitCode(64)
        }
        let runtime: DeployfileCompiler.Runtime
        do {
            runtime = try DeployfileCompiler.Runtime.locate()
        } catch {
            CLI.warn("\(error)")
            throw ExitCode(70)
        }
        let package = ScratchPackage(deployfile: URL(fileURLWithPath: path).standardizedFileURL, runtime: runtime)
        try package.write()
        let folder = package.folder.path
        print("""
            wrote \(folder): a Swift package around \(package.deployfile.path), built against \(runtime.library).
            Open that folder (or its Package.swift) in an editor with Swift package support and edit
            Sources/Deployfile/Deployfile.swift there: it links to your Deployfile, now with completion and definitions.
            It builds as your Deployfile compiles: swift build --package-path \(Shell.quote(folder))
            (It names where this swiftfab's runtime is: run swiftfab edit again if that moves.)
            """)
    }
}

/// `.swiftfab/edit/` beside the Deployfile: Package.swift, the entry point
/// the compiler adds to a Deployfile, and a relative link to the Deployfile.
/// It ignores itself in git: a deploy refuses a working tree with changes.
struct ScratchPackage {
    let deployfile: URL
    let runtime: DeployfileCompiler.Runtime

    var folder: URL { deployfile.deletingLastPathComponent().appendingPathComponent(".swiftfab/edit") }
    var sources: URL { folder.appendingPathComponent("Sources/Deployfile") }

    func write() throws {
        let files = FileManager.default
        try files.createDirectory(at: sources, withIntermediateDirectories: true)
        try "*\n".write(to: folder.appendingPathComponent(".gitignore"), atomically: true, encoding: .utf8)
        try manifest.write(to: folder.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try "import SwiftFab\nawait DeployfileMain.run(deployfile)\n"
            .write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
        // Relative (Sources/Deployfile -> edit -> .swiftfab -> the Deployfile's folder): the project can move.
        let link = sources.appendingPathComponent("Deployfile.swift")
        try? files.removeItem(at: link)
        try files.createSymbolicLink(atPath: link.path, withDestinationPath: "../../../../" + deployfile.lastPathComponent)
    }

    /// Deployfiles compile in Swift 5 mode against the runtime's modules and
    /// library; the package does the same, so it sees what the compiler sees.
    var manifest: String {
        """
        // swift-tools-version: 6.0
        // Written by swiftfab edit: the Deployfile as a package, for an editor. It names where
        // this machine's SwiftFab runtime is: run swiftfab edit again if that moves.
        import PackageDescription

        let modules = \(literal(runtime.modules))
        let library = \(literal(runtime.library))

        let package = Package(
            name: "Deployfile",
            targets: [
                .executableTarget(
                    name: "Deployfile",
                    swiftSettings: [.swiftLanguageMode(.v5), .unsafeFlags(["-I", modules])],
                    linkerSettings: [.unsafeFlags(["-L", library, "-lSwiftFabRuntime", "-Xlinker", "-rpath", "-Xlinker", library])]
                ),
            ]
        )

        """
    }

    /// A path as a Swift string literal.
    func literal(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
