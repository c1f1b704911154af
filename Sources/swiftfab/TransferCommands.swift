import ArgumentParser
import Foundation
import SwiftFab

struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Upload a file or directory tree to many hosts.",
        discussion: "Files land atomically: written under a temporary name, then renamed. Example: swiftfab put -H web1,web2 ./dist /srv/app/static"
    )

    @OptionGroup var hostOptions: HostOptions

    @Option(help: "Set this octal mode on every uploaded file (e.g. 600).")
    var mode: String?

    @Argument(help: "Local file or directory.") var local: String
    @Argument(help: "Remote path (an existing directory receives the file inside it).") var remote: String

    func validate() throws {
        guard FileManager.default.fileExists(atPath: local) else { throw ValidationError("no such local file or directory: \(local)") }
        if let mode, UInt32(mode, radix: 8) == nil { throw ValidationError("--mode takes an octal mode such as 644") }
    }

    func run() async throws {
        let adHoc = try hostOptions.adHoc()
        let printer = HostPrinter(hosts: adHoc.hosts, style: CLI.style)
        let bar = Terminal.stderrIsTTY ? ProgressBar(label: "upload") : nil
        let transfer = TransferOptions(mode: mode.flatMap { UInt32($0, radix: 8) })
        let reports = await adHoc.onEachHost { connection in
            var options = transfer
            if let bar {
                let host = connection.host
                options.onProgress = { progress in bar.update(host: host, progress) }
            }
            let summary = try await connection.upload(local, to: remote, options)
            bar?.finish()
            printer.note(connection.host, AdHoc.describe(summary, verb: "uploaded"))
            return HostReport(host: connection.host, status: .ok, duration: summary.duration)
        }
        try CLI.finish(reports)
    }
}

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Download a file or directory tree from many hosts.",
        discussion: "With several hosts each copy goes to LOCAL/<host>/. Example: swiftfab get -H web1,web2 /var/log/nginx ./logs"
    )

    @OptionGroup var hostOptions: HostOptions

    @Argument(help: "Remote file or directory.") var remote: String
    @Argument(help: "Local path.") var local: String

    func run() async throws {
        let adHoc = try hostOptions.adHoc()
        let printer = HostPrinter(hosts: adHoc.hosts, style: CLI.style)
        let bar = Terminal.stderrIsTTY ? ProgressBar(label: "download") : nil
        var transfer = TransferOptions()
        if let bar { transfer.onProgress = { bar.update(host: "all", $0) } }
        let reports = await adHoc.download(remote, to: local, transfer, printer: printer)
        bar?.finish()
        try CLI.finish(reports)
    }
}
