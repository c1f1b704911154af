import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// Provision runs as root; the deploy user owns the app's tree and its home.
/// Links that user plants where provision writes must never carry root's
/// writes, chowns or chmods to root's own files.
extension ProvisionTests {
    @Test(.timeLimit(.minutes(3)), .sandbox) func provisionNeverWritesThroughLinksTheDeployUserPlanted() async throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let user = "sfl\(tag)", root = "/srv/links-\(tag)", sys = "/srv/links-sys-\(tag)"
        let envFile = try TempDir.make().path + "/prod.env"
        try "GREETING=hello-\(tag)\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let key = try String(contentsOfFile: hosts.clientKey + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let app = BlueGreenConfig(app: "shop", root: root, command: "serve {socket}", envFile: envFile, runtime: .process)
        // Keys in the user's home (the default), no packages, proxy or boot service: the steps the user's links can reach.
        var config = ServerConfig(app: app, deployUser: user, authorizedKeys: [key], sudoersDir: "\(sys)/sudoers.d",
                                  packages: [], boot: .none)

        try await hosts.withConnection("th\(Self.index)") { connection in
            func remote(_ script: String) async throws -> String {
                try await connection.run(.raw(script)).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            func asUser(_ script: String) async throws {
                let result = try await connection.run(Command("runuser", "-u", user, "--", "sh", "-c", script))
                #expect(result.succeeded, "\(script): \(result.stderrText)")
            }
            func provision() async throws -> [StepReport] { try await Provisioner(config: config).provision(on: connection) }
            /// Owner, mode and a hash of what root keeps in `sys`: none of it may change.
            let rootFiles = "cd \(sys) && stat -c '%n %U %a' victim-dir victim-dir/file victim-env victim-keys && cat victim-dir/file victim-env victim-keys | sha256sum"
            do {
                #expect(try await remote("mkdir -p \(sys)/victim-dir && echo roots > \(sys)/victim-dir/file && echo env-of-root > \(sys)/victim-env && "
                                         + "echo keys-of-root > \(sys)/victim-keys && chmod 700 \(sys)/victim-dir && chmod 600 \(sys)/victim-env \(sys)/victim-keys && echo ok") == "ok")
                let untouched = try await remote(rootFiles)
                let first = try await provision()
                #expect(first.allSatisfy { $0.outcome == .changed }, "\(first)")
                let home = try await remote("getent passwd \(user) | cut -d: -f6")

                // 1. run/ becomes a link to a folder of root's: refused, the folder stays root's.
                try await asUser("rm -rf \(Shell.quote(root))/run && ln -s \(Shell.quote(sys))/victim-dir \(Shell.quote(root))/run")
                let linkedRun = try await provision()
                let directories = linkedRun.first { $0.step.hasPrefix("directories") }
                #expect(directories?.outcome == .failed && directories?.detail.contains("\(root)/run is a symbolic link") == true
                        && directories?.detail.contains("replace it with the real folder") == true, "\(linkedRun)")
                #expect(try await remote(rootFiles) == untouched)
                try await asUser("rm \(Shell.quote(root))/run")
                #expect(try await provision().allSatisfy { $0.outcome != .failed })

                // 2. The env file's old staging name, and the env file itself, as links to a file of root's.
                try await asUser("ln -s \(Shell.quote(sys))/victim-env \(Shell.quote(root))/shared/.env.swiftfab-new")
                try "GREETING=changed-\(tag)\n".write(toFile: envFile, atomically: true, encoding: .utf8)
                let staged = try await provision()
                #expect(staged.first { $0.step.hasPrefix("env file") }?.outcome == .changed, "\(staged)")
                #expect(try await remote("grep -c changed-\(tag) \(root)/shared/.env; stat -c '%U %a' \(root)/shared/.env") == "1\n\(user) 600")
                #expect(try await remote(rootFiles) == untouched)
                try await asUser("ln -sf \(Shell.quote(sys))/victim-env \(Shell.quote(root))/shared/.env")
                let linkedEnv = try await provision()
                let envStep = linkedEnv.first { $0.step.hasPrefix("env file") }
                #expect(envStep?.outcome == .failed && envStep?.detail.contains("\(root)/shared/.env is a symbolic link") == true, "\(linkedEnv)")
                #expect(try await remote(rootFiles) == untouched)
                try await asUser("rm \(Shell.quote(root))/shared/.env")

                // 3. authorized_keys as a link to a file of root's, with a key to add: refused, the file keeps its bytes.
                try await asUser("rm -f ~/.ssh/authorized_keys && ln -s \(Shell.quote(sys))/victim-keys ~/.ssh/authorized_keys")
                config.authorizedKeys.append("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyAddedLater\(tag) second")
                let linkedKeys = try await provision()
                let userStep = linkedKeys.first { $0.step.hasPrefix("deploy user") }
                #expect(userStep?.outcome == .failed && userStep?.detail.contains("\(home)/.ssh/authorized_keys is a symbolic link") == true, "\(linkedKeys)")
                #expect(try await remote(rootFiles) == untouched)

                // 4. A sudoers folder the deploy user can change: root writes no rule there.
                try await asUser("rm ~/.ssh/authorized_keys")
                config.sudoersDir = "\(root)/shared/sudoers.d"
                let userSudoers = try await provision()
                let sudoStep = userSudoers.first { $0.step.hasPrefix("deploy user") }
                #expect(sudoStep?.outcome == .failed && sudoStep?.detail.contains("\(root)/shared/sudoers.d can be changed by a user other than root") == true,
                        "\(userSudoers)")
                #expect(try await remote("test -e \(root)/shared/sudoers.d && echo made || echo none") == "none")
                // Keys in the home were written as the user: its file, mode 600, both keys.
                #expect(try await remote("stat -c '%U %a' \(home)/.ssh/authorized_keys; grep -c ssh-ed25519 \(home)/.ssh/authorized_keys") == "\(user) 600\n2")
            } catch {
                Issue.record(error)
            }
            _ = try await remote("for i in $(seq 100); do pgrep -u \(user) >/dev/null || break; sleep 0.1; done; userdel -r \(user) 2>/dev/null; rm -rf \(root) \(sys)")
            #expect(try await remote("id -u \(user) >/dev/null 2>&1 && echo left || echo gone") == "gone")
        }
    }
}
