import Foundation
import Testing
@testable import SwiftFab

/// The `swiftfab` binary itself: output, summaries and exit codes.
@Suite(.sandbox) struct CLITests {
    var hosts: TestHosts { .shared }

    /// The built `swiftfab` sits next to the test bundle.
    static let binary: String = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("swiftfab").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("swiftfab").path
    }()

    func swiftfab(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) async -> (status: Int32, output: String) {
        await Shell.runLocally([Self.binary] + arguments, environment: ["NO_COLOR": "1"].merging(environment) { _, new in new }, stdin: stdin)
    }

    @Test func execPrefixesLinesAndSummarises() async {
        let run = await swiftfab(["exec", "-F", hosts.sshConfig, "-H", "th1,th2", "--", "echo hi from $SSH_CONNECTION"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("th1 | hi from"))
        #expect(run.output.contains("th2 | hi from"))
        #expect(run.output.contains("2 hosts ok"))
        #expect(!run.output.contains("\u{1B}["))  // NO_COLOR
    }

    @Test func exitCodesSayWhatFailed() async {
        let failed = await swiftfab(["exec", "-F", hosts.sshConfig, "-H", "th1,th2", "--", "test \"$(echo $SSH_CONNECTION | cut -d' ' -f3)\" = \(hosts.ip(1))"])
        #expect(failed.status == 1)
        #expect(failed.output.contains("th2   FAILED (exit 1"))
        #expect(failed.output.contains("th1   ok (exit 0"))
        let unreachable = await swiftfab(["exec", "-F", hosts.sshConfig, "-H", "th1,nosuch.invalid", "--", "true"])
        #expect(unreachable.status == 1)
        #expect(unreachable.output.contains("nosuch.invalid  ERROR cannot resolve nosuch.invalid"))
        let stray = await swiftfab(["exec", "-F", hosts.sshConfig, "-H", "th1", "-q", "--", "true"])
        #expect(stray.status == 64 && stray.output.contains("unknown option -q"))
        let usage = await swiftfab(["exec", "-H", "th1"])
        #expect(usage.status == 64)
        #expect(usage.output.contains("give the command to run after --"))
    }

    @Test func argumentsAreQuotedOneByOne() async {
        let run = await swiftfab(["exec", "-F", hosts.sshConfig, "-H", "th3", "--", "printf", "%s|", "a b", "$HOME"])
        #expect(run.output.contains("th3 | a b|$HOME|"))
    }

    @Test func sudoPasswordComesFromTheEnvironmentAndNeverShows() async {
        let run = await swiftfab(["exec", "-F", hosts.sshConfig, "-H", "deploy-th4", "--sudo", "--sudo-password-env", "PW", "--", "id -un"],
                           environment: ["PW": hosts.deployPassword])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("deploy-th4 | root"))
        #expect(!run.output.contains(hosts.deployPassword))
    }

    @Test func putAndGetMoveFiles() async throws {
        let dir = try TempDir.make().path
        try "payload\n".write(toFile: dir + "/file.txt", atomically: true, encoding: .utf8)
        let put = await swiftfab(["put", "-F", hosts.sshConfig, "-H", "th5,th6", "--mode", "640", dir + "/file.txt", "/srv/cli-file.txt"])
        #expect(put.status == 0, "\(put.output)")
        #expect(put.output.contains("th5 | uploaded 1 file"))
        let get = await swiftfab(["get", "-F", hosts.sshConfig, "-H", "th5,th6", "/srv/cli-file.txt", dir + "/back"])
        #expect(get.status == 0, "\(get.output)")
        for host in ["th5", "th6"] {
            #expect(try String(contentsOfFile: "\(dir)/back/\(host)/cli-file.txt", encoding: .utf8) == "payload\n")
        }
    }

    @Test func trustAddsAnUnknownHostAfterConfirmation() async throws {
        let dir = try TempDir.make().path
        let text = hosts.block("newhost", index: 17, knownHosts: dir + "/known_hosts")
        try text.write(toFile: dir + "/config", atomically: true, encoding: .utf8)
        let refused = await swiftfab(["exec", "-F", dir + "/config", "-H", "newhost", "--", "true"])
        #expect(refused.status == 1)
        #expect(refused.output.contains("is not known"))
        // No terminal and no --yes: nothing is written.
        let declined = await swiftfab(["trust", "-F", dir + "/config", "newhost"])
        #expect(declined.status == 1)
        #expect(!FileManager.default.fileExists(atPath: dir + "/known_hosts"))
        let trusted = await swiftfab(["trust", "-F", dir + "/config", "newhost", "--yes"])
        #expect(trusted.status == 0, "\(trusted.output)")
        #expect(trusted.output.contains("ED25519 key fingerprint is SHA256:"))
        let works = await swiftfab(["exec", "-F", dir + "/config", "-H", "newhost", "--", "true"])
        #expect(works.status == 0)
        let again = await swiftfab(["trust", "-F", dir + "/config", "newhost", "--yes"])
        #expect(again.output.contains("already trusted"))
    }
}
