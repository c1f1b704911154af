import Foundation
import Testing
@testable import SwiftFab

/// A fresh server is reached as root once (`provision --user root`), then
/// as the deploy user the Deployfile names: `--user` overrides it for one run.
@Suite(.sandbox) struct BootstrapTests {
    var hosts: TestHosts { .shared }

    @Test func userOverridesTheDeployfilesUserForOneRun() async throws {
        let dir = try TempDir.make().path
        try """
            import SwiftFab

            let deployfile = Deployfile("boot") {
                Environment("production") { Host("th2", user: "deploy", roles: .web) }
                Task("whoami", "Who the run connects as") { Run("id -un") }
            }
            """.write(toFile: dir + "/Deployfile.swift", atomically: true, encoding: .utf8)
        func swiftfab(_ words: [String]) async -> (status: Int32, output: String) {
            await Shell.runLocally(["/bin/sh", "-c", "cd \(Shell.quote(dir)) && exec " + Shell.join([CLITests.binary] + words + ["-F", hosts.sshConfig])],
                             environment: ["NO_COLOR": "1", "SWIFTFAB_CACHE_DIR": DeployfileCLITests.cache])
        }
        let asDeploy = await swiftfab(["whoami"])
        #expect(asDeploy.status == 0 && asDeploy.output.contains("th2   | deploy"), "\(asDeploy.output)")
        let asRoot = await swiftfab(["whoami", "--user", "root"])
        #expect(asRoot.status == 0 && asRoot.output.contains("th2   | root"), "\(asRoot.output)")
        await #expect(swiftfab(["whoami", "--user", "root@th2"]).status == 64)
    }
}
