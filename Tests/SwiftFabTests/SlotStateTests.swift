import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// The blue/green state files on a host, driven by the real commands in a
/// scratch directory: the switch and its rollback target move together, and
/// the delayed stop of an old slot never runs beside a deploy.
@Suite struct SlotStateTests {
    let local = LocalBackend()

    func layout() throws -> (root: String, commands: SlotCommands) {
        let root = try TempDir.make().path
        try FileManager.default.createDirectory(atPath: root + "/run", withIntermediateDirectories: true)
        return (root, SlotCommands(config: BlueGreenConfig(app: "shop", root: root, command: "app", runtime: .process)))
    }

    @Test func theSwitchWritesTheRollbackTargetInTheSameCommand() async throws {
        let (root, commands) = try layout()
        let release = "20261201T120000Z-abc1234"
        let switched = try await local.run(commands.switchTo(.green, previous: .set(release)))
        #expect(switched.succeeded, "\(switched.stderrText)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/run/live.sock") == "green.sock")
        #expect(try String(contentsOfFile: root + "/run/previous", encoding: .utf8) == release + "\n")
        #expect(!FileManager.default.fileExists(atPath: root + "/run/previous.new"))

        // A switch that cannot happen leaves the old target whole, and no staged copy behind.
        try FileManager.default.removeItem(atPath: root + "/run/live.sock")
        try FileManager.default.createDirectory(atPath: root + "/run/live.sock/in-the-way", withIntermediateDirectories: true)
        let refused = try await local.run(commands.switchTo(.blue, previous: .set("20261201T130000Z-def5678")))
        #expect(!refused.succeeded)
        #expect(try String(contentsOfFile: root + "/run/previous", encoding: .utf8) == release + "\n")
        #expect(!FileManager.default.fileExists(atPath: root + "/run/previous.new"))
    }

    @Test func theDelayedStopWaitsWhileADeployHoldsTheLock() async throws {
        let (root, commands) = try layout()
        let bin = root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        // supervisorctl records each stop and whether a deploy held the lock at that moment;
        // sleep records each wait, so the test knows when the stop is waiting for the lock.
        try """
            #!/bin/sh
            case "$*" in *" stop "*) if [ -e \(root)/deploy.lock ]; then echo during-deploy; else echo after-deploy; fi >> \(root)/stops;; esac
            """.write(toFile: bin + "/supervisorctl", atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho \"$1\" >> \(root)/sleeps\nexec /bin/sleep \"$1\"\n".write(toFile: bin + "/sleep", atomically: true, encoding: .utf8)
        chmod(bin + "/supervisorctl", 0o755)
        chmod(bin + "/sleep", 0o755)
        try "20261201T120000Z-abc1234\n".write(toFile: root + "/run/blue.release", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/run/live.sock", withDestinationPath: "green.sock")
        try FileManager.default.createDirectory(atPath: root + "/deploy.lock", withIntermediateDirectories: true)

        let later = commands.stopLater(.blue, release: "20261201T120000Z-abc1234", after: 0)
        #expect(try await local.run(later.with(environment: ["PATH": bin + ":/usr/bin:/bin"])).succeeded)
        try await waitFor("the stop to wait for the lock") { (try? String(contentsOfFile: root + "/sleeps", encoding: .utf8))?.split(separator: "\n").count ?? 0 >= 2 }
        try FileManager.default.removeItem(atPath: root + "/deploy.lock")
        try await waitFor("the delayed stop") { FileManager.default.fileExists(atPath: root + "/stops") }
        #expect(try String(contentsOfFile: root + "/stops", encoding: .utf8) == "after-deploy\n")
    }

    /// What `status` lists: each slot's program as the app's real supervisord
    /// sees it. A stopped slot makes `supervisorctl status` exit 3; that is no
    /// stopped supervisord, which is said only when it does not answer.
    @Test(.sandbox) func theProcessListSaysWhichSlotIsStoppedAndWhetherSupervisordRuns() async throws {
        let root = try TempDir.make().path
        let commands = SlotCommands(config: BlueGreenConfig(app: "shop", root: root, command: "sleep 600", runtime: .process))
        let release = "20261201T120000Z-abc1234"
        try FileManager.default.createDirectory(atPath: root + "/releases/" + release, withIntermediateDirectories: true)
        defer { _ = Shell.runLocallyBlocking(["/usr/bin/supervisorctl", "-c", commands.supervisorConf, "shutdown"]) }
        for command in [commands.ensureSupervisor(), commands.start(.blue, release: release), commands.start(.green, release: release)] {
            let result = try await local.run(command)
            #expect(result.succeeded, "\(command.display): \(result.stderrText)")
        }
        _ = try await local.run(commands.stop(.green))
        let listed = try await local.run(commands.processes())
        let lines = listed.stdoutText.split(separator: "\n").map(String.init)
        #expect(listed.succeeded && lines.count == 2, "\(listed.stdoutText)")
        #expect(lines.contains { $0.hasPrefix("shop-blue ") && $0.contains("RUNNING") } && lines.contains { $0.hasPrefix("shop-green ") && $0.contains("STOPPED") },
                "\(listed.stdoutText)")
        _ = Shell.runLocallyBlocking(["/usr/bin/supervisorctl", "-c", commands.supervisorConf, "shutdown"])
        try await waitFor("supervisord to exit") { await Shell.runLocally(["/usr/bin/supervisorctl", "-c", commands.supervisorConf, "pid"]).status != 0 }
        let down = try await local.run(commands.processes())
        #expect(down.succeeded && down.stdoutText == "supervisord: not running\n", "\(down.stdoutText)")
    }
}
