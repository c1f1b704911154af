import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// What doctor and logs run as a non-root deploy user works with that user's
/// rights, on files and processes as Debian leaves them (root's nginx, logs
/// of group adm, 0640). Run here as `nobody`, through runuser.
@Suite(.sandbox) struct LeastPrivilegeTests {
    func asNobody(_ command: Command) async throws -> (status: Int32, output: String) {
        await Shell.runLocally(["/usr/sbin/runuser", "-u", "nobody", "--", "/bin/sh", "-c", try command.rendered()])
    }

    @Test func doctorSeesRootsNginxRunningWithoutSignallingIt() async throws {
        let dir = try TempDir.make().path
        chmod(dir, 0o755)
        let app = BlueGreenConfig(app: "shop", command: "serve {socket}", runtime: .process)
        // PID 1 is root's: `kill -0 1` as nobody fails with EPERM, yet it runs.
        try "1\n".write(toFile: dir + "/nginx.pid", atomically: true, encoding: .utf8)
        let proxy = NginxSite(hostname: "shop.example", pidFile: dir + "/nginx.pid")
        let check = DoctorChecks(config: ServerConfig(app: app, proxy: proxy)).proxyRunning(proxy)
        let running = try await asNobody(check.command)
        #expect(check.read(CheckOutput(status: running.status, stdout: running.output)).status == .ok, "\(running.output)")

        // A pid that names no process is down, and the hint starts nginx through sudo.
        try "999999999\n".write(toFile: dir + "/nginx.pid", atomically: true, encoding: .utf8)
        let gone = try await asNobody(check.command)
        let finding = check.read(CheckOutput(status: gone.status, stdout: gone.output))
        #expect(finding.status == .fail && finding.hint == "sudo service nginx start", "\(finding)")
    }

    @Test func logsSayWhoCanReadAFileTheUserCannot() async throws {
        let dir = try TempDir.make().path
        chmod(dir, 0o755)
        let log = dir + "/access.log"
        try "GET / 200\n".write(toFile: log, atomically: true, encoding: .utf8)
        #expect(chown(log, 0, getgrnam("adm").pointee.gr_gid) == 0 && chmod(log, 0o640) == 0)
        let app = BlueGreenConfig(app: "shop", command: "serve {socket}", runtime: .process)
        let commands = LogCommands(config: ServerConfig(app: app, proxy: NginxSite(hostname: "shop.example", logs: [log, dir + "/none-*.log"])))
        let refused = try await asNobody(commands.tail(.proxy, lines: 5))
        #expect(refused.status == 1)
        #expect(refused.output.contains("\(log) is not readable by nobody (root:adm 640); it reads logs in group adm (swiftfab provision adds it) or through sudo"),
                "\(refused.output)")
        // With no log group set, provision adds none: the message does not promise it.
        let noGroup = LogCommands(config: ServerConfig(app: app, proxy: NginxSite(hostname: "shop.example", logs: [log]), logGroup: nil))
        let refusedAgain = try await asNobody(noGroup.tail(.proxy, lines: 5))
        #expect(refusedAgain.status == 1 && refusedAgain.output.contains("\(log) is not readable by nobody (root:adm 640); it reads them through sudo, or in the file's group"),
                "\(refusedAgain.output)")
        // Whoever may read it gets its lines (a missing pattern is no error while another file matches).
        let read = await Shell.runLocally(["/bin/sh", "-c", try commands.tail(.proxy, lines: 5).rendered()])
        #expect(read.status == 0 && read.output.contains("GET / 200"), "\(read.output)")
        let nothing = LogCommands(config: ServerConfig(app: app, proxy: NginxSite(hostname: "shop.example", logs: [dir + "/none-*.log"])))
        let none = await Shell.runLocally(["/bin/sh", "-c", try nothing.tail(.proxy).rendered()])
        #expect(none.status == 1 && none.output.contains("no log file matches \(dir)/none-*.log on this host"), "\(none.output)")
    }
}
