import Foundation
import SwiftFab

/// Where `rollback [RELEASE]` goes: the previous release (no argument), a
/// kept release by name, the newest release of a commit (a SHA prefix), or
/// `-N`: N releases older than the live one. Checked for its form before
/// anything connects; resolved on each host against the releases it keeps.
public enum RollbackTarget: Sendable, Equatable {
    case previous
    case release(String)
    case revision(String)
    case back(Int)

    /// Nil when the word is none of the forms.
    public init?(_ word: String?) {
        guard let word else { self = .previous; return }
        if AppLayout.isReleaseName(word) {
            self = .release(word)
        } else if word.hasPrefix("-"), let steps = Int(word.dropFirst()), steps >= 1, word.dropFirst().allSatisfy(\.isASCII) {
            self = .back(steps)
        } else if (4...40).contains(word.utf8.count), word.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
            self = .revision(word)
        } else {
            return nil
        }
    }

    static func shortSHA(of release: String) -> String { String(release.split(separator: "-").last ?? "") }

    public static let forms = "a release name (20261122T011500Z-1a2b3c4), a commit's SHA (4 to 40 lower-case hex digits) or -N (N releases before the live one)"

    /// The release this target names among `releases`, given
    /// the live one; `revisionOf` reads a release's full commit when a SHA is
    /// longer than the one in its name. Throws with what the host keeps.
    public func resolve(in releases: [String], live: String?, host: String,
                        revisionOf: (String) async throws -> String?) async throws -> String? {
        let kept = releases.filter(AppLayout.isReleaseName).sorted(by: >)
        func missing(_ what: String) -> SwiftFabError {
            SwiftFabError(.command, host: host, "\(what); nothing was changed",
                          hint: kept.isEmpty ? "this host keeps no releases" : "it keeps: " + kept.prefix(10).joined(separator: ", ") + (kept.count > 10 ? ", ..." : "") + " (see `swiftfab releases`)")
        }
        switch self {
        case .previous:
            return nil
        case .release(let name):
            guard kept.contains(name) else { throw missing("release \(name) is not kept on this host") }
            return name
        case .back(let steps):
            guard let live, let index = kept.firstIndex(of: live) else { throw missing("nothing is live here, so -\(steps) names no release") }
            guard index + steps < kept.count else {
                throw missing("-\(steps) goes past the oldest kept release (\(kept.count - index - 1) older than the live one)")
            }
            return kept[index + steps]
        case .revision(let sha):
            var matches: [String] = []  // newest first: the first is the newest release of that commit
            for name in kept {
                let short = Self.shortSHA(of: name)
                if short.hasPrefix(sha) {
                    matches.append(name)
                } else if sha.hasPrefix(short), let full = try await revisionOf(name), full.hasPrefix(sha) {
                    matches.append(name)
                }
            }
            guard let newest = matches.first else { throw missing("no kept release was made from commit \(sha)") }
            let commits = Set(matches.map(Self.shortSHA))
            guard commits.count == 1 else {
                throw SwiftFabError(.invalidInput, host: host, "\(sha) is the start of \(commits.count) commits' SHAs here (\(commits.sorted().joined(separator: ", "))); nothing was changed",
                                    hint: "give more of the SHA, or the release's name")
            }
            return newest
        }
    }
}
