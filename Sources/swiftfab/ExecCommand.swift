import ArgumentParser
import Foundation
import SwiftFab

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one command on many hosts at once.",
        discussion: """
            Each output line is prefixed with its host; a per-host summary follows.
            Exit status: 0 when every host succeeded, 1 when some host failed (its command, or it
            could not be reached or used: the summary says which), as for tasks.
            Example: swiftfab exec -H web1,web2 -- uptime
            """
    )

    @OptionGroup var hostOptions: HostOptions

    @Option(help: "Kill the command on a host after this many seconds.")
    var timeout: Double?

    @Flag(help: "Run through sudo.")
    var sudo = false

    @Option(name: .customLong("sudo-user"), help: "Run through sudo as this user.")
    var sudoUser: String?

    @Option(name: .customLong("sudo-password-env"), help: "Environment variable holding the sudo password (it is never printed).")
    var sudoPasswordEnv: String?

    @Flag(help: "Allocate a terminal for the command.")
    var pty = false

    @Flag(name: .customLong("stdin"), help: "Send this program's standard input to every host's command (streamed; for several hosts a pipe is first copied to a private temporary file).")
    var forwardStdin = false

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    func validate() throws {
        // An option before -- that exec does not know must not become part of the remote command.
        if let first = command.first, first != "--", first.hasPrefix("-") {
            throw ValidationError("unknown option \(first) (the command to run goes after --)")
        }
        let words = command.first == "--" ? Array(command.dropFirst()) : command
        guard !words.isEmpty else { throw ValidationError("give the command to run after --, e.g. swiftfab exec -H web1 -- uptime") }
        if let sudoPasswordEnv, ProcessInfo.processInfo.environment[sudoPasswordEnv] == nil {
            throw ValidationError("the environment variable \(sudoPasswordEnv) is not set")
        }
    }

    func run() async throws {
        let adHoc = try hostOptions.adHoc()
        let words = command.first == "--" ? Array(command.dropFirst()) : command
        // One word is taken as shell text (like ssh does); several are quoted each.
        var remote = words.count == 1 ? Command.raw(words[0]) : Command(words: words)
        if sudo || sudoUser != nil { remote = remote.asSudo(user: sudoUser) }
        var options = ExecOptions(timeout: timeout, pty: pty)
        // Every line is printed as it arrives; the results only feed the summary.
        options.keepOutput = 64 << 10
        if let sudoPasswordEnv, let password = ProcessInfo.processInfo.environment[sudoPasswordEnv] {
            options.sudoPassword = Secret(password)
        }
        // Streamed as the hosts take it; several hosts share a spooled copy.
        var spool: StdinSpool?
        if forwardStdin {
            if adHoc.hosts.count == 1 {
                options.stdinSource = .stream(STDIN_FILENO)
            } else {
                spool = try StdinSpool(reading: STDIN_FILENO)
                options.stdinSource = spool?.source
            }
        }
        let printer = HostPrinter(hosts: adHoc.hosts, style: CLI.style)
        let reports = await adHoc.exec(remote, options, printer: printer)
        withExtendedLifetime(spool) {}
        try CLI.finish(reports)
    }
}
