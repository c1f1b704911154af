import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// The deploy recipe's building blocks against real sshd hosts.
@Suite struct ReleaseTests {
    var hosts: TestHosts { .shared }

    @Test func retentionNeverDeletesProtectedReleases() {
        let releases = ["20260101T000000Z-aaaaaaa", "20260102T000000Z-bbbbbbb", "20260103T000000Z-ccccccc",
                        "20260104T000000Z-ddddddd", "20260105T000000Z-eeeeeee", "notes.txt", ".incoming-x"]
        #expect(Retention.releasesToDelete(releases, keep: 2, protected: []) ==
                ["20260101T000000Z-aaaaaaa", "20260102T000000Z-bbbbbbb", "20260103T000000Z-ccccccc"])
        // The live one and the rollback target stay, however old; files that aren't releases are never touched.
        #expect(Retention.releasesToDelete(releases, keep: 2, protected: ["20260101T000000Z-aaaaaaa", "20260103T000000Z-ccccccc"]) ==
                ["20260102T000000Z-bbbbbbb"])
        #expect(Retention.releasesToDelete(releases, keep: 0, protected: []).count == 4) // keep at least the newest
    }

    @Test func releaseNamesSortByTimeAndNameTheCommit() {
        let commit = GitCommit(sha: "1a2b3c4d5e6f", subject: "", author: "", time: Date())
        let name = AppLayout.releaseName(for: commit, at: Date(timeIntervalSince1970: 1_795_000_000))
        #expect(name == "20261118T110640Z-1a2b3c4")  // date -u -d @1795000000
        #expect(AppLayout.isReleaseName(name) && name.hasSuffix("-1a2b3c4") && name.hasPrefix("2026"))
        #expect(!AppLayout.isReleaseName("../etc") && !AppLayout.isReleaseName("shared"))
    }

    @Test func aReleaseMadeInTheSameSecondAsTheNewestSortsAfterIt() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)  // 20261118T110640Z
        #expect(UTCStamp.string(from: ReleaseShipper.stamp(now, after: "20261118T110639Z-aaaaaaa\n")) == "20261118T110640Z")
        #expect(UTCStamp.string(from: ReleaseShipper.stamp(now, after: "20261118T110640Z-aaaaaaa\n")) == "20261118T110641Z")
        // A clock set back: still after the newest.
        #expect(UTCStamp.string(from: ReleaseShipper.stamp(now, after: "20270101T000000Z-aaaaaaa")) == "20270101T000001Z")
        #expect(ReleaseShipper.stamp(now, after: "") == now && ReleaseShipper.stamp(now, after: "notes.txt") == now)
    }

    @Test func rollbackTargetsAreCheckedForTheirFormBeforeAnythingConnects() {
        #expect(RollbackTarget(nil) == .previous)
        #expect(RollbackTarget("20261118T110640Z-1a2b3c4") == .release("20261118T110640Z-1a2b3c4"))
        #expect(RollbackTarget("1a2b") == .revision("1a2b"))
        #expect(RollbackTarget(String(repeating: "ab", count: 20)) == .revision(String(repeating: "ab", count: 20)))
        #expect(RollbackTarget("-1") == .back(1) && RollbackTarget("-12") == .back(12))
        for bad in ["", "-0", "-", "--1", "1a2", "1A2B", "main", "HEAD~1", "../x", "20261118T110640Z", "-1a", "-١", "1a2b\n", String(repeating: "a", count: 41)] {
            #expect(RollbackTarget(bad) == nil, "\(bad)")
        }
    }

    @Test func rollbackTargetsResolveAgainstWhatTheHostKeeps() async throws {
        let kept = ["20260101T000000Z-aaaaaaa", "20260102T000000Z-bbbbbbb", "20260103T000000Z-abcdef1", "20260104T000000Z-ddddddd",
                    "20260105T000000Z-aaaaaaa", "notes.txt"]
        let live = "20260104T000000Z-ddddddd"
        func resolve(_ target: RollbackTarget, live: String? = live) async throws -> String? {
            try await target.resolve(in: kept, live: live, host: "web1") { $0.hasSuffix("abcdef1") ? "abcdef1234" : "aaaaaaa999" }
        }
        #expect(try await resolve(.previous) == nil)
        #expect(try await resolve(.back(1)) == "20260103T000000Z-abcdef1")
        #expect(try await resolve(.back(3)) == "20260101T000000Z-aaaaaaa")
        #expect(try await resolve(.release("20260102T000000Z-bbbbbbb")) == "20260102T000000Z-bbbbbbb")
        // A commit deployed twice: its newest release. A longer SHA is checked against the release's whole commit.
        #expect(try await resolve(.revision("aaaa")) == "20260105T000000Z-aaaaaaa")
        #expect(try await resolve(.revision("abcdef123")) == "20260103T000000Z-abcdef1")
        func failure(_ target: RollbackTarget, live: String? = live) async -> SwiftFabError? {
            do { _ = try await resolve(target, live: live); return nil } catch { return error as? SwiftFabError }
        }
        #expect(await failure(.back(4))?.message == "-4 goes past the oldest kept release (3 older than the live one); nothing was changed")
        #expect(await failure(.back(1), live: nil)?.message.contains("nothing is live here") == true)
        let missing = await failure(.release("20250101T000000Z-eeeeeee"))
        #expect(missing?.message == "release 20250101T000000Z-eeeeeee is not kept on this host; nothing was changed" && missing?.host == "web1")
        #expect(missing?.hint?.hasPrefix("it keeps: 20260105T000000Z-aaaaaaa, 20260104T000000Z-ddddddd") == true, "\(String(describing: missing?.hint))")
        #expect(await failure(.revision("abcdef129"))?.message == "no kept release was made from commit abcdef129; nothing was changed")
        // Two commits start with abcd: which one is meant is the user's to say.
        let ambiguous = await #expect(throws: SwiftFabError.self) {
            try await RollbackTarget.revision("abcd").resolve(in: kept + ["20260106T000000Z-abcd999"], live: live, host: "web1") { _ in nil }
        }
        #expect(ambiguous?.message == "abcd is the start of 2 commits' SHAs here (abcd999, abcdef1); nothing was changed" && ambiguous?.kind == .invalidInput)
    }

    @Test(.sandbox) func onlyOneOfTwoRacingDeploysTakesTheLock() async throws {
        let layout = AppLayout(app: "locktest-\(UUID().uuidString.prefix(6).lowercased())")
        let lock = DeployLock(layout: layout)
        let first = try await hosts.connect("th21")
        let second = try await hosts.connect("th21")
        async let a: Result<Void, Error> = { do { try await lock.take(on: first, who: "alice", revision: "aaaa111"); return .success(()) } catch { return .failure(error) } }()
        async let b: Result<Void, Error> = { do { try await lock.take(on: second, who: "bob", revision: "bbbb222"); return .success(()) } catch { return .failure(error) } }()
        let results = await [a, b]
        let winners = results.filter { if case .success = $0 { return true } else { return false } }
        #expect(winners.count == 1)
        let loser = results.compactMap { if case .failure(let error) = $0 { return error as? SwiftFabError } else { return nil } }.first
        let holder = DeployLock.parse(try await first.run(lock.inspect()).stdoutText)
        #expect(holder != nil)
        #expect(loser?.message.contains("another deploy holds the lock: \(holder!.who) (revision \(holder!.revision)") == true)
        #expect(loser?.hint?.contains("swiftfab unlock") == true)
        // Released, it can be taken again; waiting works while another holds it briefly.
        #expect(try await first.run(lock.release()).succeeded)
        try await lock.take(on: first, who: "carol", revision: "cccc333")
        // Freed once the waiter says it waits (its first try found the lock held).
        let (waiting, waits) = AsyncStream.makeStream(of: String.self)
        async let freed: String? = {
            var said: String?
            for await note in waiting { said = note; break }
            _ = try? await first.run(lock.release())
            return said
        }()
        try await lock.take(on: second, who: "dave", revision: "dddd444", wait: 30, note: { waits.yield($0) })
        waits.finish()
        let said = await freed
        #expect(said?.hasPrefix("another deploy holds the lock: carol (revision cccc333, since ") == true && said?.hasSuffix("waiting up to 30.00s for it") == true,
                "\(String(describing: said))")
        #expect(DeployLock.parse(try await second.run(lock.inspect()).stdoutText)?.who == "dave")
        _ = try await second.run(lock.release())
        await first.close()
        await second.close()
    }

    @Test(.sandbox) func aLockWhoseConnectionDiedIsClearedByTheNextTaker() async throws {
        let layout = AppLayout(app: "stalelock-\(UUID().uuidString.prefix(6).lowercased())")
        let lock = DeployLock(layout: layout)
        let dying = try await hosts.connect("th21")
        let other = try await hosts.connect("th21")
        let erinsToken = try await lock.take(on: dying, who: "erin", revision: "eeee555")
        // While erin's connection lives, her lock holds.
        await #expect(throws: SwiftFabError.self) { try await lock.take(on: other, who: "frank", revision: "ffff666") }
        await dying.close()
        // Her sshd session process exits shortly after the connection ends.
        let notes = LineLog()
        try await lock.take(on: other, who: "frank", revision: "ffff666", wait: 5, note: notes.add)
        #expect(notes.all.contains("cleared a stale deploy lock of erin (revision eeee555"), "\(notes.all)")
        #expect(DeployLock.parse(try await other.run(lock.inspect()).stdoutText)?.who == "frank")
        // Had erin's deploy carried on over a new connection, it could neither move traffic nor free frank's lock.
        await #expect(throws: SwiftFabError.self) { try await lock.ensureHeld(on: other, token: erinsToken) }
        _ = try await other.run(lock.release(token: erinsToken))
        #expect(DeployLock.parse(try await other.run(lock.inspect()).stdoutText)?.who == "frank")
        _ = try await other.run(.raw("rm -rf \(layout.root)"))
        await other.close()
    }

    @Test func theDependencyImageFollowsWhatTheDockerfileCopies() async throws {
        let dir = try TempDir.make().path
        func write(_ name: String, _ text: String) throws { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        func fingerprint(_ runtime: ContainerRuntime = ContainerRuntime()) async throws -> String {
            let commands = SlotCommands(config: BlueGreenConfig(app: "fp", command: "true", runtime: .container(runtime)))
            let result = try await LocalBackend().run(.raw("cd \(Shell.quote(dir)) && { \(commands.fingerprint(runtime)); } | sha256sum"))
            #expect(result.succeeded, "\(result.stderrText)")
            return result.stdoutText
        }
        try write("Dockerfile", "FROM base\nCOPY --chown=app requirements.txt /deps/\nCOPY --from=builder /x /y\nRUN true\n")
        try write("requirements.txt", "flask==3\n")
        try write("app.py", "print(1)\n")
        let first = try await fingerprint()
        try write("app.py", "print(2)\n")
        #expect(try await fingerprint() == first)           // code is mounted, not built in
        try write("requirements.txt", "flask==3.1\n")
        let second = try await fingerprint()
        #expect(second != first)                             // a named dependency changed
        try write("Dockerfile", "FROM base\nCOPY requirements.txt /deps/\nRUN pip install\n")
        #expect(try await fingerprint() != second)           // the Dockerfile itself changed
        try write("Dockerfile", "FROM base\nCOPY . /app\n")
        let baked = try await fingerprint()
        try write("app.py", "print(3)\n")
        #expect(try await fingerprint() != baked)            // code baked into the image: any change rebuilds
        // Globs, continued lines and the JSON form name files too.
        try write("Dockerfile", "FROM base\nCOPY --chown=app \\\n  requirements*.txt /deps/\nCOPY [\"constraints.txt\", \"/deps/\"]\n")
        try write("requirements-dev.txt", "pytest\n")
        try write("constraints.txt", "a<2\n")
        let globbed = try await fingerprint()
        try write("requirements-dev.txt", "pytest==8\n")
        let afterGlob = try await fingerprint()
        #expect(afterGlob != globbed)
        try write("constraints.txt", "a<3\n")
        #expect(try await fingerprint() != afterGlob)
        // Listed dependency files replace the Dockerfile's own list.
        let listed = ContainerRuntime(dependencyFiles: ["requirements.txt"])
        let pinned = try await fingerprint(listed)
        try write("app.py", "print(4)\n")
        #expect(try await fingerprint(listed) == pinned)
    }

    @Test func deploysGoInBatchesAndReportWhatIsLiveAfterAFailure() async throws {
        let repository = try await GitTests.makeRepository()   // a deploy plans its commit: a clean repository of its own
        let deployfile = Deployfile("shop") {
            Environment("prod") { for index in 1...5 { Host("web\(index)", roles: .web) } }
            BlueGreen(BlueGreenConfig(app: "shop", command: "serve {socket}", repository: repository, batchSize: 2))
        }
        let hosts = deployfile.environments[0].hosts
        let planner = Planner(deployfile: deployfile)
        for task in ["deploy", "promote", "rollback"] {
            #expect(try planner.plan(task, hosts: hosts).batches.map(\.count) == [2, 2, 1])
            #expect(deployfile.hooks.contains(Hook(when: .failed, target: task, task: "live")))
        }
        #expect(try planner.plan("live", hosts: hosts).batches.map(\.count) == [5])
        // A container's command is exec'd when that cannot break it.
        #expect(SlotCommands.execPrefix("gunicorn --bind unix:{socket} app:app") == "exec ")
        for command in ["PORT=8000 ./server", "cd web && gunicorn app", "./migrate; ./serve", "exec gunicorn app"] {
            #expect(SlotCommands.execPrefix(command) == "", "\(command)")
        }
        // The check through the proxy asks for the site by name, and a hostile path stays one word.
        let check = SlotCommands(config: BlueGreenConfig(app: "shop", command: "serve", proxyCheckURL: "http://127.0.0.1/v$(id)",
                                                         proxyCheckHost: "shop.example")).proxyCheck("http://127.0.0.1/v$(id)", slot: .green)
        #expect(check.display.contains("-H 'Host: shop.example' 'http://127.0.0.1/v$(id)'"), "\(check.display)")
        #expect(!check.display.contains("\"$(id)") && !check.display.contains(" /v$(id)"), "\(check.display)")
        // A slot is healthy when its health path answers the configured status.
        let health = SlotCommands(config: BlueGreenConfig(app: "shop", command: "serve", healthPath: "/up", healthStatus: 204)).healthCheck(.blue).display
        #expect(health.contains("\"$code\" = 204") && health.contains("http://localhost/up"), "\(health)")
    }

    @Test(.sandbox) func shipsACommitAsARelease() async throws {
        let repoPath = try await GitTests.makeRepository()
        let repository = try GitRepository(discoveringFrom: repoPath)
        let layout = AppLayout(app: "ship-\(UUID().uuidString.prefix(6).lowercased())")
        try await hosts.withConnection("th22") { connection in
            let shipper = ReleaseShipper(layout: layout)
            // Leftovers of a deploy whose connection died are cleared by the next one.
            let leftovers = "mkdir -p \(layout.releases)/.incoming-20260101T000000Z-aaaaaaa && touch \(layout.releases)/.upload-x.tar"
            #expect(try await connection.run(.raw(leftovers)).succeeded)
            let (name, metadata) = try await shipper.ship(repository, revision: "HEAD", to: connection, deployer: "tester")
            let head = try repository.resolve()
            #expect(metadata.revision == head.sha && metadata.subject == "Second: say v2" && metadata.deployer == "tester")
            let release = layout.release(name)
            #expect(try await connection.run(Command("cat", release + "/app/main.py")).stdoutText == "print(\"v2\")\n")
            #expect(try await connection.run(Command("cat", release + "/REVISION")).stdoutText == head.sha + "\n")
            #expect(try await connection.run(Command("test", "-x", release + "/run.sh")).succeeded)
            #expect(try await connection.run(Command("readlink", release + "/entry.py")).stdoutText == "app/main.py\n")
            let json = try await connection.run(Command("cat", release + "/" + ReleaseShipper.metadataFile)).stdout
            #expect(try JSONDecoder().decode(ReleaseShipper.Metadata.self, from: json) == metadata)
            // Nothing temporary is left, and the listing shows exactly the release.
            #expect(try await connection.run(shipper.list()).stdoutText == name + "\n")
            #expect(try await connection.run(Command(shell: "ls -A \(layout.releases)")).stdoutText == name + "\n")
        }
    }

    @Test(.sandbox) func aFullDiskLeavesNoPartialRelease() async throws {
        let repository = try await GitRepository(discoveringFrom: try GitTests.makeRepository())
        let layout = AppLayout(app: "full", root: "/srv/full-\(UUID().uuidString.prefix(6).lowercased())")
        try await hosts.withConnection("th23") { connection in
            // A 16 KiB filesystem: the upload fits, the unpacked release does not.
            let mount = try await connection.run(Command(shell: "mkdir -p \(layout.releases) && mount -t tmpfs -o size=16k tmpfs \(layout.releases)"))
            #expect(mount.succeeded, "\(mount.stderrText)")
            do {
                _ = try await ReleaseShipper(layout: layout).ship(repository, revision: "HEAD", to: connection, deployer: "tester")
                Issue.record("a release was shipped onto a full disk")
            } catch let error as SwiftFabError {
                #expect(error.host == "th23")
            }
            #expect(try await connection.run(Command(shell: "ls -A \(layout.releases)")).stdoutText.isEmpty)
            _ = try await connection.run(Command(shell: "umount \(layout.releases)"))
        }
    }
}

