// swift-tools-version: 6.0
import PackageDescription

// Deployfiles are compiled against SwiftFab's module alone: library evolution
// keeps its internal imports (libssh2, libgit2, crypto, logging) out of what
// a Deployfile has to find. (The compiler then warns that Foundation is not
// built for evolution: harmless, a cached Deployfile is rebuilt whenever the runtime changes.)
// With this flag SwiftPM also writes each module's .swiftinterface (Modules/X.swiftinterface):
// the module as text, which scripts/install ships so that a later compiler can still read it.
let runtimeSettings: [SwiftSetting] = [.unsafeFlags(["-enable-library-evolution"])]

let package = Package(
    name: "swiftfab",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SwiftFab", targets: ["SwiftFab"]),
        .library(name: "SwiftFabRecipes", targets: ["SwiftFabRecipes"]),
        .executable(name: "swiftfab", targets: ["swiftfab"]),
        // What a compiled Deployfile links against: the engine and the recipes, as one shared library.
        .library(name: "SwiftFabRuntime", type: .dynamic, targets: ["SwiftFab", "SwiftFabRecipes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"]), .brew(["libssh2"])]
        ),
        .systemLibrary(
            name: "CLibGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"]), .brew(["libgit2"])]
        ),
        .target(
            name: "SwiftFab",
            dependencies: [
                "CLibSSH2",
                "CLibGit2",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: runtimeSettings
        ),
        .target(
            name: "SwiftFabRecipes",
            dependencies: ["SwiftFab"],
            path: "recipes",
            swiftSettings: runtimeSettings
        ),
        .executableTarget(
            name: "swiftfab",
            dependencies: [
                "SwiftFab",
                "SwiftFabRecipes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "swiftfab-bench",
            dependencies: ["SwiftFab"],
            path: "bench/Sources"
        ),
        .testTarget(
            name: "SwiftFabTests",
            dependencies: ["SwiftFab", "SwiftFabRecipes"]
        ),
    ]
)
