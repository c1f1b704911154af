import Foundation
import Testing
@testable import SwiftFab

/// Hostile task arguments through the real `swiftfab` and a Deployfile,
/// against the sandbox hosts: they are printed, never run.
@Suite(.sandbox) struct InjectionTests {
    @Test func aTaskArgumentWithAnApostropheAndACombiningMarkIsData() async throws {
        let cli = DeployfileCLITests()
        let dir = try cli.project()
        for payload in QuotingPropertyTests.payloads.prefix(3) {
            let run = await cli.swiftfab(["hello", payload, "-e", "sandbox", "-F", cli.hosts.sshConfig, "-H", "th1"], in: dir)
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("| Hello, \(payload), from"), "\(run.output)")
            #expect(!run.output.split(separator: "\n").contains { $0.hasSuffix("| INJECTED") }, "\(run.output)")
        }
    }
}
