import ArgumentParser
import Foundation
import SwiftFab

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a Deployfile.swift to start from."
    )

    @Option(name: [.customShort("f"), .customLong("file")], help: "Where to write it.") var file = "Deployfile.swift"
    @Flag(help: "Replace an existing file.") var force = false

    func run() throws {
        if FileManager.default.fileExists(atPath: file) && !force {
            CLI.warn("\(file) exists already; not touching it (--force replaces it)")
            throw ExitCode(1)
        }
        try ExampleDeployfile.text.write(toFile: file, atomically: true, encoding: .utf8)
        print("""
            wrote \(file). Next:
              swiftfab --list            the tasks it declares
              swiftfab uptime --dry-run  what a task would run, without connecting
              swiftfab uptime            run it (edit the hosts first, or start the sandbox: scripts/testhosts start 3)
            """)
    }
}
