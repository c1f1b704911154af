import Foundation
import Testing
@testable import SwiftFab
@testable import SwiftFabRecipes

/// A task's questions go to the run's prompter, never to the terminal
/// itself: here a scripted one answers in the person's place.
@Suite struct PrompterTests {
    /// `restore NAME` on a host that keeps a sound backup, answered as `answers` say.
    func restore(answering prompter: Prompter) async throws -> (ok: Bool, harness: RecordingHarness) {
        let deployfile = Deployfile("shop") { Postgres(PostgresConfig(database: "shop", backups: "/srv/b")) }
        let harness = RecordingHarness(deployfile, hosts: [Host("db1", roles: .db)], answerAssumptions: true)
        let run = RunContext(deployfileDirectory: "/nowhere", prompter: prompter)
        let plans = try harness.runner.plans("restore", arguments: TaskArguments(values: ["shop-20261201T000000Z.dump"], names: ["name"], run: run))
        return (await harness.runner.run("restore", plans: plans).ok, harness)
    }

    func restoredSomething(_ harness: RecordingHarness) -> Bool {
        harness.backends["db1"]!.commandValues.contains { $0.summary?.hasPrefix("restore shop-20261201T000000Z.dump into shop") == true }
    }

    @Test func aRestoreGoesOnOnlyWhenThePersonTypesYes() async throws {
        let refused = try await restore(answering: .answering(["no"]))
        #expect(!refused.ok && !restoredSomething(refused.harness))
        #expect(refused.harness.events.text.contains("not confirmed: nothing was restored"), "\(refused.harness.events.text)")
        let confirmed = try await restore(answering: .answering(["yes", "n"]))
        #expect(restoredSomething(confirmed.harness), "\(confirmed.harness.events.text)")
    }

    @Test func withNobodyToAskARestoreStopsBeforeItTouchesAnything() async throws {
        let nobody = try await restore(answering: .nobody)
        #expect(!nobody.ok && nobody.harness.events.text.contains("there is no terminal to ask on"), "\(nobody.harness.events.text)")
        // Nothing ran on the host but the history line that says so.
        let ran = nobody.harness.backends["db1"]!.commands
        #expect(ran.count == 1 && ran[0].contains(".swiftfab/history.log") && ran[0].contains("failed: restore replaces the database"), "\(ran)")
    }

    @Test func aYesNoQuestionDefaultsToYesAndNobodyMeansNo() {
        #expect(LocalFiles.ask("Stop?", .answering([""])) && LocalFiles.ask("Stop?", .answering(["Yes"])))
        #expect(!LocalFiles.ask("Stop?", .answering(["n"])) && !LocalFiles.ask("Stop?", .nobody))
    }
}
