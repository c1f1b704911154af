import Foundation
import SwiftFab

/// Puts a commit on a host as a new release: the archive made locally by
/// libgit2 is uploaded, unpacked under a temporary name and renamed into
/// `releases/`, with the release's metadata beside the code. A failure at
/// any point leaves no partial release behind.
public struct ReleaseShipper: Sendable {
    public var layout: AppLayout

    public init(layout: AppLayout) { self.layout = layout }

    /// What is recorded with each release (`.swiftfab-release.json`).
    public struct Metadata: Codable, Sendable, Equatable {
        public var revision: String
        public var subject: String
        public var author: String
        public var deployer: String
        public var deployedAt: String
        public var release: String
    }

    public static let metadataFile = ".swiftfab-release.json"
    /// The commit a release was made from, one line.
    public static let revisionFile = "REVISION"

    /// The commands that unpack `tarball` (already uploaded) as release `name`.
    public func unpack(_ tarball: String, as name: String, metadata: Metadata) throws -> Command {
        let staging = layout.releases + "/.incoming-" + name
        let json = String(decoding: try JSONEncoder.sorted.encode(metadata), as: UTF8.self)
        return Command(shell: """
            set -e; mkdir -p \(layout.releases) \(layout.shared); rm -rf \(staging); mkdir \(staging); \
            if ! tar -xf \(tarball) -C \(staging) --no-same-owner; then rm -rf \(staging) \(tarball); exit 1; fi; \
            printf '%s\\n' \(json) > \(staging + "/" + Self.metadataFile); \
            printf '%s\\n' \(metadata.revision) > \(staging + "/" + Self.revisionFile); \
            mv -T \(staging) \(layout.release(name)); rm -f \(tarball)
            """).described("unpack release \(name) aside, add its REVISION and metadata, move it into \(layout.releases)")
    }

    /// Archives `revision` of `repository`, uploads it and unpacks it on `backend`.
    public func ship(_ repository: GitRepository, revision: String, to backend: any Backend, deployer: String,
                     now: Date = Date()) async throws -> (name: String, metadata: Metadata) {
        // One archive for the hosts shipping this commit at once (a batch), private, removed after the last.
        let archive = try await ReleaseArchives.shared.acquire(root: repository.root, revision: revision)
        do {
            let shipped = try await ship(archive, to: backend, deployer: deployer, now: now)
            await ReleaseArchives.shared.release(root: repository.root, revision: revision)
            return shipped
        } catch {
            await ReleaseArchives.shared.release(root: repository.root, revision: revision)
            throw error
        }
    }

    private func ship(_ archive: ReleaseArchive, to backend: any Backend, deployer: String, now: Date) async throws -> (name: String, metadata: Metadata) {
        // Under the lock: whatever an interrupted deploy left half-done goes first.
        let prepare = try await backend.run(cleanUp())
        guard prepare.succeeded else {
            throw SwiftFabError(.command, host: backend.host, "cannot create \(layout.releases): \(prepare.stderrText)")
        }
        let name = AppLayout.releaseName(for: archive.commit, at: Self.stamp(now, after: prepare.stdoutText))
        let metadata = Metadata(revision: archive.commit.sha, subject: archive.commit.subject, author: archive.commit.author,
                                deployer: deployer, deployedAt: ISO8601DateFormatter().string(from: now), release: name)
        let tarball = layout.releases + "/.upload-" + name + ".tar"
        _ = try await backend.upload(archive.path, to: tarball, TransferOptions(mode: 0o600))
        let result = try await backend.run(try unpack(tarball, as: name, metadata: metadata))
        guard result.succeeded else {
            throw SwiftFabError(.command, host: backend.host, "cannot unpack release \(name): \(result.stderrText)",
                                hint: "check free space on the host (df -h \(layout.root))")
        }
        return (name, metadata)
    }

    /// Under the lock: whatever an interrupted deploy left half-done goes first.
    /// Also prints the newest release's name, so the next one sorts after it.
    public func cleanUp() -> Command {
        Command(shell: "mkdir -p \(layout.releases) && rm -rf \(layout.releases)/.incoming-* \(layout.releases)/.upload-* && ls -1 \(layout.releases) | grep -E '^[0-9]{8}T[0-9]{6}Z-' | sort | tail -n 1")
            .described("remove what an interrupted deploy left in \(layout.releases) (.incoming-*, .upload-*)")
    }

    /// `now`, or a second after the newest release's stamp when that is not
    /// earlier (two deploys in one second, a clock set back): release names
    /// sort in the order they were made, which `rollback -N` and pruning rely on.
    static func stamp(_ now: Date, after newest: String) -> Date {
        let name = newest.trimmingCharacters(in: .whitespacesAndNewlines)
        guard AppLayout.isReleaseName(name), let last = UTCStamp.date(from: String(name.prefix(16))) else { return now }
        return UTCStamp.string(from: now) > UTCStamp.string(from: last) ? now : last.addingTimeInterval(1)
    }

    /// Every release kept, by name; a dry run assumes a few (and the one `target` names).
    public func list(including target: RollbackTarget = .previous) -> Command {
        var assumed = (1...5).map { "2026111\($0 + 3)T090000Z-\(String(repeating: String($0), count: 7))" }
            + [SlotCommands.assumedRelease[.green]!, SlotCommands.assumedRelease[.blue]!]
        switch target {
        case .release(let name): assumed.append(name)
        case .revision(let sha): assumed.append("20261112T090000Z-" + (sha + "0000000").prefix(max(7, sha.count)))
        case .previous, .back: break
        }
        return Command(shell: "ls -1 \(layout.releases) 2>/dev/null || true").described("list the releases")
            .assuming(assumed.joined(separator: "\n") + "\n", because: "the host keeps \(assumed.count) releases, as after \(assumed.count) deploys")
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
