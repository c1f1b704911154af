import ArgumentParser
import Foundation
import SwiftFab

/// `swiftfab init`: a first Deployfile for the user's own server, which
/// dry-runs as written (no ssh config, no secrets needed for that).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a first Deployfile.swift for your server.",
        discussion: """
            swiftfab init --host deploy@web1.example.com
            swiftfab init --host web1 --app shop --recipes bluegreen,server
            Without --host it asks on a terminal; otherwise it writes a placeholder server to edit.
            """
    )

    static let placeholder = "deploy@your-server.example.com"

    @Option(help: "Your server: user@host, host:port or an ssh config alias (default: asked, or \(placeholder)).")
    var host: String?
    @Option(help: "The app's name: lowercase letters, digits, - and _ (default: this folder's name).")
    var app: String?
    @Option(help: "Comma separated: bluegreen (deploys), postgres (backups), server (provision, doctor, logs); or none.")
    var recipes = DeployfileChoices.Recipe.allCases.map(\.rawValue).joined(separator: ",")
    @Flag(help: "Also an environment of swiftfab's local sandbox hosts (scripts/testhosts start 3, in swiftfab's source).")
    var sandbox = false
    @Option(name: [.customShort("f"), .customLong("file")], help: "Where to write it.")
    var file = "Deployfile.swift"
    @Flag(help: "Replace an existing file.")
    var force = false

    func validate() throws {
        _ = try chosenRecipes()
        if let host {
            do { _ = try Self.server(host) } catch let error as ValidationError { throw ValidationError("--host: " + error.message) }
        }
        if let app, Self.sanitized(app) != app {
            throw ValidationError("--app \(app): use lowercase letters, digits, - and _, starting with a letter (e.g. \(Self.sanitized(app)))")
        }
    }

    func run() throws {
        if FileManager.default.fileExists(atPath: file) && !force {
            CLI.warn("\(file) exists already; not touching it (--force replaces it)")
            throw ExitCode(1)
        }
        let folder = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        var target = try host.map(Self.server)
        if target == nil && isatty(STDIN_FILENO) != 0 { target = try Self.askForServer() }
        let server = try target ?? Self.server(Self.placeholder)
        let runtime = RuntimeChoice(folder: folder.path)
        let choices = DeployfileChoices(user: server.user, host: server.host, port: server.port,
                                        app: app ?? Self.sanitized(folder.lastPathComponent), recipes: try chosenRecipes(), sandbox: sandbox,
                                        containers: runtime.containers)
        try ExampleDeployfile.text(for: choices).write(toFile: file, atomically: true, encoding: .utf8)
        print(NextSteps(choices: choices, file: file, placeholder: target == nil, folder: folder.path, runtime: choices.declaresApp ? runtime.why : nil).text)
    }

    func chosenRecipes() throws -> Set<DeployfileChoices.Recipe> {
        let names = recipes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        if names == ["none"] { return [] }
        let known = DeployfileChoices.Recipe.allCases.map(\.rawValue)
        return Set(try names.map { name in
            guard let recipe = DeployfileChoices.Recipe(rawValue: name) else {
                let near = EditDistance.near(name, in: known).first.map { "did you mean \($0)? " } ?? ""
                throw ValidationError("--recipes: no recipe \(name); \(near)the recipes are \(known.joined(separator: ", ")) (or none)")
            }
            return recipe
        })
    }

    typealias Server = (user: String?, host: String, port: Int?)

    /// `[user@]host[:port]`, `[v6addr]:port` or an alias: only characters a
    /// host name or user name has, since they are written into Swift source.
    static func server(_ text: String) throws -> Server {
        let bad = ValidationError("not a server: \(text); give user@host, host, host:port or an ssh config alias (e.g. deploy@web1.example.com)")
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let target = SSHConfig.parseTarget(trimmed)
        if trimmed.contains("@") && target.user == nil { throw bad }
        let userOK = target.user.map { $0.range(of: #"^[A-Za-z_][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil } ?? true
        let hostOK = target.host.range(of: #"^[A-Za-z0-9_]([A-Za-z0-9._-]*)$"#, options: .regularExpression) != nil
            || (target.host.contains(":") && target.host.range(of: #"^[0-9A-Fa-f:.]+$"#, options: .regularExpression) != nil)
        guard userOK, hostOK, trimmed.count <= 253 else { throw bad }
        return (target.user, target.host, target.port)
    }

    /// On a terminal: asks until the answer is a server; Enter (or end of input) leaves the placeholder.
    static func askForServer() throws -> Server? {
        while true {
            StandardStreams.write("Your server, as user@host (Enter: a placeholder to edit later): ", to: .stderr)
            guard let answer = Interrupt.prompting({ readLine() })?.trimmingCharacters(in: .whitespaces), !answer.isEmpty else { return nil }
            do { return try server(answer) } catch let error as ValidationError { CLI.warn(error.message) }
        }
    }

    /// A folder's name as an app's name: lowercase, dashes for the rest, starting with a letter.
    static func sanitized(_ name: String) -> String {
        var result = ""
        for character in name.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "-") {
                if character != "-" || !result.hasSuffix("-") { result.append(character) }
            } else if !result.hasSuffix("-") {
                result.append("-")
            }
        }
        let trimmed = result.drop { !($0.isASCII && $0.isLetter) }.prefix(40)
        let name = String(trimmed.reversed().drop { $0 == "-" || $0 == "_" }.reversed())
        return name.isEmpty ? "app" : name
    }
}

/// How the app's slots run, from what the repository holds: a Dockerfile
/// means containers built from it, none means processes under supervisord.
struct RuntimeChoice {
    let containers: Bool
    /// What init says about it.
    let why: String

    init(folder: String) {
        // A release is a commit of the whole repository: its Dockerfile is at the repository's root.
        let root = (try? GitRepository(discoveringFrom: folder))?.root ?? folder
        containers = FileManager.default.fileExists(atPath: root + "/Dockerfile")
        why = containers
            ? "runtime: containers, because \(root)/Dockerfile exists (the image is built from it on the server)"
            : "runtime: processes under the app's supervisord, because \(root) has no Dockerfile (with one, init picks containers)"
    }
}

/// What to do after init, from what it wrote and where: a deploy ships git
/// commits, so a folder outside a repository or a repository without a
/// commit is said up front, not found at the first deploy.
struct NextSteps {
    let choices: DeployfileChoices
    let file: String
    let placeholder: Bool
    let folder: String
    /// The runtime init picked, and why.
    var runtime: String? = nil

    var text: String {
        let has = choices.recipes.contains
        let what = [has(.bluegreen) ? "blue/green deploys" : nil, has(.postgres) ? "PostgreSQL backups" : nil,
                    has(.server) ? "provision, doctor and logs" : nil].compactMap { $0 }
        var steps: [(String, String)] = []
        if placeholder { steps.append(("edit the server", "\(choices.host) is a placeholder")) }
        let edits = [has(.bluegreen) || has(.server) ? "the app's command and health path" : nil, has(.postgres) ? "the database" : nil,
                     has(.server) ? "the site's name and your public key" : nil].compactMap { $0 }
        if !edits.isEmpty { steps.append(("edit the lines marked \"edit:\"", edits.joined(separator: ", "))) }
        steps.append(("swiftfab --list", "the tasks it declares"))
        let sample = has(.server) ? "doctor" : has(.postgres) ? "backup" : "uptime"
        steps.append(("swiftfab \(sample) --dry-run", "what a task would run, connecting to nothing"))
        if has(.server) {
            steps.append((choices.deployUser == nil ? "swiftfab provision" : "swiftfab provision --user root",
                          choices.deployUser == nil ? "set the server up" : "set a new server up, as root"))
        }
        if has(.bluegreen) { steps.append(("swiftfab deploy", "ship the last commit, blue/green")) }
        if choices.sandbox { steps.append(("scripts/testhosts start 3", "then any task with -e sandbox")) }
        steps.append(("swiftfab edit", "completion for the Deployfile in an editor"))
        let width = steps.map(\.0.count).max() ?? 0
        var lines = ["wrote \(file): \(choices.app)" + (what.isEmpty ? "" : ", with " + what.joined(separator: ", ")) + "."]
        if let runtime { lines.append(runtime + ".") }
        lines.append("Next:")
        lines += steps.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
        if has(.bluegreen), let note = gitNote { lines.append(note) }
        return lines.joined(separator: "\n")
    }

    /// What stands between this folder and a first deploy, git-wise.
    var gitNote: String? {
        guard let repository = try? GitRepository(discoveringFrom: folder) else {
            return """
                note: deploy ships commits of a git repository, and \(folder) is in none. Make one:
                  git init && git add -A && git commit -m "First commit"
                or point repository: in the Deployfile at your app's repository.
                """
        }
        guard (try? repository.resolve("HEAD")) != nil else {
            return "note: deploy ships commits, and \(repository.root) has none yet: git add -A && git commit -m \"First commit\""
        }
        guard let dirty = try? repository.dirtyFiles(), !dirty.isEmpty else { return nil }
        return "note: deploy refuses a working tree with uncommitted changes: commit \(file) (git add \(file) && git commit)"
    }
}
