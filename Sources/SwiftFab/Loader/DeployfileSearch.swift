import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where swiftfab looks for Deployfile.swift: here, then each parent folder
/// up to the repository's root (the nearest folder holding `.git`, a folder
/// or a worktree's file), so a project's tasks run from any of its folders.
/// Without a repository only here: a Deployfile is compiled and run as the
/// user (shell completion does it at every Tab), and one in a parent folder
/// of /tmp or of a shared folder may be anybody's. As git does, the search
/// never goes above $HOME, nor onto another filesystem.
public struct DeployfileSearch: Sendable {
    public static let name = "Deployfile.swift"

    /// Why the search went no higher.
    enum Limit: Sendable, Equatable {
        /// The repository's root, at the last of `folders`.
        case repository
        /// No `.git` up to the home folder, or up to where another filesystem
        /// (or `/`) begins: only the start is looked in.
        case noRepository(lookedUpTo: String, home: Bool)
    }

    /// The folders looked in, nearest first (real paths).
    public let folders: [String]
    let limit: Limit

    /// `home`: $HOME (nil: no limit there).
    public init(from start: String, home: String?) {
        let start = DeployfileCompiler.resolved(URL(fileURLWithPath: start).standardizedFileURL.path)
        let home = home.map { DeployfileCompiler.resolved(URL(fileURLWithPath: $0).standardizedFileURL.path) }
        var chain = [start]
        while true {
            let folder = chain.last!
            if FileManager.default.fileExists(atPath: folder + "/.git") {
                (folders, limit) = (chain, .repository)
                return
            }
            let parent = URL(fileURLWithPath: folder).deletingLastPathComponent().standardizedFileURL.path
            guard folder != "/", folder != home, let here = Self.device(folder), Self.device(parent) == here else {
                (folders, limit) = ([start], .noRepository(lookedUpTo: folder, home: folder == home))
                return
            }
            chain.append(parent)
        }
    }

    /// From the current folder, with the user's home folder as the limit.
    public static func here(environment: [String: String] = ProcessInfo.processInfo.environment) -> DeployfileSearch {
        DeployfileSearch(from: FileManager.default.currentDirectoryPath, home: LocalAccount(environment: environment).home)
    }

    /// The nearest Deployfile.swift, if one of the folders has one.
    public var nearest: String? {
        folders.lazy.map { $0 + "/" + Self.name }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The repository's root, or the start without one: completion compiles no Deployfile from elsewhere.
    public var top: String { folders.last! }

    /// Whether `path` (symlinks resolved) is in `top` or a folder below it.
    public func holds(_ path: String) -> Bool {
        let real = DeployfileCompiler.resolved(URL(fileURLWithPath: path).standardizedFileURL.path)
        return real.hasPrefix(top == "/" ? "/" : top + "/")
    }

    /// The folders whose writers could have put the Deployfile at `path`, or
    /// one nearer, in this search's way: those looked in up to the one holding it.
    public func folders(before path: String) -> [String] {
        let folder = DeployfileCompiler.resolved(URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path)
        guard let index = folders.firstIndex(of: folder) else { return [folder] }
        return Array(folders[...index])
    }

    /// What was searched, for "no Deployfile.swift ...".
    public var searched: String {
        switch limit {
        case .repository where folders.count == 1:
            return "here (\(folders[0]), the repository's root)"
        case .repository:
            return "here (\(folders[0])), nor in a parent folder up to the repository's root (\(top))"
        case .noRepository(let lookedUpTo, let home):
            let reach = home ? "up to your home folder \(lookedUpTo)" : lookedUpTo == "/" ? "up to /" : "on this filesystem, up to \(lookedUpTo)"
            return "here (\(folders[0])); outside a git repository (no .git \(reach)) swiftfab looks only here"
        }
    }

    /// The filesystem `path` is on (stat's st_dev).
    private static func device(_ path: String) -> dev_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_dev : nil
    }
}
