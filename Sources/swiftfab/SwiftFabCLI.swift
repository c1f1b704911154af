import ArgumentParser
import SwiftFab

@main
struct SwiftFabCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftfab",
        abstract: "Run tasks on your servers over SSH: deploys, rollbacks, backups, checks.",
        version: SwiftFabVersion.current,
        subcommands: [ExecCommand.self, PutCommand.self, GetCommand.self, TrustCommand.self]
    )
}
