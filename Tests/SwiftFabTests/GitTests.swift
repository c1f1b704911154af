import Foundation
import Testing
@testable import SwiftFab

/// Releases from git through libgit2, checked against the git binary.
@Suite struct GitTests {
    /// A repository with two commits, a tag, and tricky paths.
    static func makeRepository() async throws -> String {
        let dir = try TempDir.make().path
        let long = (1...6).map { "directory-with-a-long-name-\($0)" }.joined(separator: "/") + "/file-at-the-end-of-a-long-path.txt"
        let script = """
            set -e
            cd \(Shell.quote(dir))
            git init -q -b main .
            git config user.email dev@example.com && git config user.name 'Dev Eloper'
            mkdir -p app/static "$(dirname \(Shell.quote(long)))"
            printf 'print("v1")\\n' > app/main.py
            printf '#!/bin/sh\\necho run\\n' > run.sh && chmod +x run.sh
            printf 'body {}\\n' > app/static/site.css
            printf 'deep\\n' > \(Shell.quote(long))
            printf 'ünïcødé\\n' > 'naïve café.txt'
            ln -s app/main.py entry.py
            printf 'pax\n' > "app/$(printf 'n%.0s' $(seq 130)).txt"
            printf 'secret.env\\n' > .gitignore
            git add -A && git commit -q -m 'First release'
            git tag v1
            printf 'print("v2")\\n' > app/main.py
            git commit -q -am 'Second: say v2'
            """
        let result = await Shell.runLocally(["/bin/sh", "-c", script])
        precondition(result.status == 0, result.output)
        return dir
    }

    /// path -> (mode, sha256 of contents, or link target) for an extracted tree.
    static func snapshot(_ root: String) async -> [String: String] {
        let script = "cd \(Shell.quote(root)) && find . -mindepth 1 \\( -type f -printf '%P %m ' -exec sh -c 'sha256sum < \"$1\" | cut -c1-16' _ {} \\; \\) -o \\( -type l -printf '%P link %l\\n' \\) -o \\( -type d -printf '%P dir\\n' \\)"
        let output = await Shell.runLocally(["/bin/sh", "-c", script]).output
        var result: [String: String] = [:]
        for line in output.split(separator: "\n") {
            // Paths may hold spaces: the mode/hash tail is the last fields.
            let text = String(line)
            if text.hasSuffix(" dir") { result[String(text.dropLast(4))] = "dir"; continue }
            if let range = text.range(of: " link ") { result[String(text[..<range.lowerBound])] = "link " + text[range.upperBound...]; continue }
            // git archive applies its own umask (664/775): compare the executable bit.
            let fields = text.split(separator: " ")
            let path = fields.dropLast(2).joined(separator: " ")
            let executable = (Int(fields[fields.count - 2], radix: 8) ?? 0) & 0o100 != 0
            result[path] = (executable ? "exec " : "file ") + fields[fields.count - 1]
        }
        return result
    }

    @Test func archiveMatchesGitArchive() async throws {
        let repo = try await Self.makeRepository()
        let work = try TempDir.make().path
        let archive = try GitRepository(discoveringFrom: repo + "/app").archive("HEAD", to: work + "/release.tar")
        #expect(archive.commit.subject == "Second: say v2")
        #expect(archive.files == 8)
        // Extract ours and git's own, and compare every path, mode, content and link.
        let ours = work + "/ours", theirs = work + "/theirs"
        let extract = """
            mkdir -p \(ours) \(theirs)
            tar -xf \(work)/release.tar -C \(ours)
            cd \(Shell.quote(repo)) && git archive HEAD | tar -xf - -C \(theirs)
            """
        await #expect(Shell.runLocally(["/bin/sh", "-c", extract]).status == 0)
        let expected = await Self.snapshot(theirs)
        #expect(expected.count > 6)
        await #expect(Self.snapshot(ours) == expected)
        #expect(expected["run.sh"]?.hasPrefix("exec ") == true)
        #expect(expected["app/main.py"]?.hasPrefix("file ") == true)
        #expect(expected["entry.py"] == "link app/main.py")
        // Deterministic: the same commit gives the same bytes.
        let again = try GitRepository(discoveringFrom: repo).archive("HEAD", to: work + "/again.tar")
        #expect(FileManager.default.contents(atPath: work + "/release.tar") == FileManager.default.contents(atPath: again.path))
        // An older revision gives its own tree.
        _ = try GitRepository(discoveringFrom: repo).archive("v1", to: work + "/v1.tar")
        await #expect(Shell.runLocally(["/bin/sh", "-c", "tar -xOf \(work)/v1.tar app/main.py"]).output == "print(\"v1\")\n")
    }

    @Test func revisionsResolveAndHistoryIsListed() async throws {
        let repo = try await GitRepository(discoveringFrom: try Self.makeRepository())
        let head = try repo.resolve()
        #expect(head.subject == "Second: say v2" && head.author == "Dev Eloper <dev@example.com>" && head.sha.count == 40)
        #expect(try repo.resolve("main") == head)
        #expect(try repo.resolve(head.shortSHA) == head)
        let v1 = try repo.resolve("v1")
        #expect(v1.subject == "First release")
        #expect(try repo.resolve("HEAD~1") == v1)
        #expect(throws: SwiftFabError.self) { try repo.resolve("no-such-branch") }
        #expect(try repo.commits(from: v1.sha, to: "HEAD")?.map(\.subject) == ["Second: say v2"])
        #expect(try repo.commits(from: "HEAD", to: "HEAD")?.isEmpty == true)
        #expect(try repo.commits(from: String(repeating: "a", count: 40), to: "HEAD") == nil)
    }

    @Test func dirtyTreeIsListedIgnoredFilesAreNot() async throws {
        let dir = try await Self.makeRepository()
        let repo = try GitRepository(discoveringFrom: dir)
        #expect(try repo.dirtyFiles().isEmpty)
        try "changed\n".write(toFile: dir + "/app/main.py", atomically: true, encoding: .utf8)
        try "new\n".write(toFile: dir + "/untracked.txt", atomically: true, encoding: .utf8)
        try "KEY=1\n".write(toFile: dir + "/secret.env", atomically: true, encoding: .utf8)
        #expect(try repo.dirtyFiles() == ["app/main.py", "untracked.txt"])
        // The archive is the commit, never the working tree.
        let work = try TempDir.make().path
        _ = try repo.archive("HEAD", to: work + "/r.tar")
        await #expect(Shell.runLocally(["/bin/sh", "-c", "tar -xOf \(work)/r.tar app/main.py"]).output == "print(\"v2\")\n")
        #expect(throws: SwiftFabError.self) { try GitRepository(discoveringFrom: "/") }
    }

    @Test func tarPaxRecordsCountThemselves() {
        let record = TarWriter.paxRecord("path", String(repeating: "x", count: 200))
        #expect(record.hasPrefix("210 path=") && record.utf8.count == 210)
        #expect(TarWriter.paxRecord("path", "ab") == "11 path=ab\n")
    }
}
