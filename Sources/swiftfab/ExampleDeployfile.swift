import Foundation

/// What `swiftfab init` was told: the server, the app, its recipes, and
/// whether the local sandbox hosts are in it.
struct DeployfileChoices: Equatable {
    enum Recipe: String, CaseIterable { case bluegreen, postgres, server }

    var user: String?
    var host: String
    var port: Int?
    var app: String
    var recipes: Set<Recipe> = Set(Recipe.allCases)
    var sandbox = false
    /// How slots run: in containers from the app's Dockerfile, or as processes.
    var containers = true

    /// The user logged in as is not root: system commands go through sudo.
    var deployUser: String? { user.flatMap { $0 == "root" ? nil : $0 } }
    var declaresApp: Bool { recipes.contains(.bluegreen) || recipes.contains(.server) }
    /// For names that allow no dash: the database, environment variables.
    var underscored: String { app.replacingOccurrences(of: "-", with: "_") }
}

/// The Deployfile `swiftfab init` writes. Deployfile.swift.example at the
/// repository's root is `text` (`example`'s choices); a test keeps the two
/// equal and checks that init writes exactly that.
enum ExampleDeployfile {
    static let example = DeployfileChoices(user: "deploy", host: "web1.example.com", app: "shop", sandbox: true)
    static var text: String { text(for: example) }

    static func text(for choices: DeployfileChoices) -> String {
        var parts = [header]
        if choices.recipes.contains(.server) { parts.append(siteName(choices)) }
        if choices.declaresApp { parts.append(app(choices)) }
        if choices.recipes.contains(.postgres) { parts.append(database(choices)) }
        if choices.recipes.contains(.server) { parts.append(server(choices)) }
        parts.append(deployfile(choices))
        return parts.joined(separator: "\n")
    }

    static let header = """
        import SwiftFab
        import SwiftFabRecipes

        // A Deployfile describes your servers and what to run on them, in Swift.
        // swiftfab --list shows its tasks; swiftfab TASK --dry-run shows what a task would run, connecting to nothing.
        // Make the lines marked "edit:" yours (swiftfab edit sets up completion for this file in an editor).

        """

    static func siteName(_ choices: DeployfileChoices) -> String {
        """
        // edit: the name your site answers to (nginx routes it to the app).
        let siteName = "\(choices.app).example.com"

        """
    }

    static func app(_ choices: DeployfileChoices) -> String {
        var rows: [Row] = [
            ("app: \"\(choices.app)\",", "it lives in /srv/\(choices.app)"),
            ("command: \"gunicorn --workers 2 --bind unix:{socket} app:app\",", "edit: starts your app, serving HTTP on {socket}"),
            ("healthPath: \"/healthz\",", "edit: answers 200 once the app is up"),
            ("repository: \".\",", "the git repository of this folder (or of a parent folder)"),
        ]
        if choices.recipes.contains(.server) {
            rows += [("proxyCheckURL: \"http://127.0.0.1/healthz\",", "after the switch, through nginx: must answer as the new slot does"),
                     ("proxyCheckHost: siteName,", nil)]
        }
        rows += [("// envFile: \"production.env\",", "edit: your app's KEY=VALUE secrets, uploaded (0600) with each release"),
                 choices.containers ? ("runtime: .container(ContainerRuntime()))", "a container built from the release's Dockerfile; .process: no Docker")
                     : ("runtime: .process)", "the command under the app's supervisord; .container(ContainerRuntime()): from a Dockerfile")]
        let about = choices.recipes.contains(.bluegreen)
            ? "The app, deployed blue/green: a deploy ships a commit of its git repository, never the working tree."
            : "The app the servers run (BlueGreen(app) would deploy it blue/green from its git repository)."
        return """
            // \(about)
            let app = BlueGreenConfig(
            \(aligned(rows, indent: "    "))

            """
    }

    static func database(_ choices: DeployfileChoices) -> String {
        var rows: [Row] = [
            ("database: \"\(choices.underscored)\",", "edit: the database's name"),
            ("user: \"\(choices.underscored)\",", "edit: the role the app logs in as"),
            ("host: \"127.0.0.1\",", "on the server itself: provision installs PostgreSQL, the role, the database"),
            ("passwordSetting: \"db_password\",", "the role's password: the secret Setting of that name, below"),
            ("backups: \"/srv/\(choices.app)/backups\",", nil),
        ]
        rows += choices.recipes.contains(.bluegreen)
            ? [("keep: 14,", nil), ("pauseWrites: .blueGreen(app))", "restore offers to stop the app's writes meanwhile")]
            : [("keep: 14)", nil)]
        return """
            // The app's PostgreSQL database: backups are checksummed, listed, and restored in one transaction.
            let database = PostgresConfig(
            \(aligned(rows, indent: "    "))

            """
    }

    static func server(_ choices: DeployfileChoices) -> String {
        let deployUser = choices.deployUser ?? "deploy"
        var rows: [Row] = [
            ("app: app,", nil),
            ("deployUser: \"\(deployUser)\",", nil),
            ("authorizedKeys: [],", "edit: public keys that may log in as \(deployUser): [\"ssh-ed25519 AAAA... you@laptop\"]"),
        ]
        let https = "edit: HTTPS once the name points here: NginxSite(hostname: siteName, tls: .acme(email: \"you@example.com\"))"
        rows += choices.deployUser == nil
            ? [("proxy: NginxSite(hostname: siteName))", https)]
            : [("proxy: NginxSite(hostname: siteName),", https),
               ("sudo: true)", "\(deployUser) is not root: system commands go through sudo -n")]
        return """
            // Each server as provision sets it up and doctor checks it: the deploy user, packages, folders, nginx, boot.
            let server = ServerConfig(
            \(aligned(rows, indent: "    "))

            """
    }

    static func deployfile(_ choices: DeployfileChoices) -> String {
        let env = choices.underscored.uppercased()
        var lines = [
            "let deployfile = Deployfile(\"\(choices.app)\") {",
            "    // edit: your server (an ssh config alias works too: your ~/.ssh/config applies); add a Host per server.",
            "    Environment(\"production\", default: true) {",
            "        \(host(choices, user: choices.user))",
            "    }",
        ]
        if choices.recipes.contains(.server), let user = choices.deployUser {
            lines += ["    // A new server has no \(user) user yet: `swiftfab provision --user root` sets it up, once, as root."]
        }
        if choices.sandbox {
            lines += ["    // Three local sandbox hosts: `scripts/testhosts start 3` starts them and writes this ssh config.",
                      "    Environment(\"sandbox\", sshConfig: \"/tmp/swiftfab-testhosts/ssh_config\") {",
                      "        Host(\"th1\", roles: .web, .db)",
                      "        Host(\"th2\", roles: .web)",
                      "        Host(\"th3\", roles: .web)",
                      "    }"]
        }
        lines += ["",
                  "    Setting(\"app_dir\", \"/srv/\(choices.app)\")",
                  "    // Secrets come from the environment (or the env file .env) and are redacted everywhere.",
                  "    EnvFile(\".env\", optional: true)",
                  "    Setting(\"api_token\", .secret(env: \"\(env)_API_TOKEN\"))"]
        if choices.recipes.contains(.postgres) {
            lines += ["    // export \(env)_DB_PASSWORD=... (your choice) before provision, which gives it to the role; your app's env file needs the same.",
                      "    Setting(\"db_password\", .secret(env: \"\(env)_DB_PASSWORD\"))"]
        }
        var recipes: [Row] = []
        if choices.recipes.contains(.bluegreen) { recipes.append(("BlueGreen(app)", "deploy, promote, rollback, releases, live, status, unlock")) }
        if choices.recipes.contains(.postgres) { recipes.append(("Postgres(database)", "backup, backups, restore, prune-backups")) }
        if choices.recipes.contains(.server) {
            recipes.append((choices.recipes.contains(.postgres) ? "ServerTasks(server.watching(database))" : "ServerTasks(server)",
                            "provision, doctor, logs"))
        }
        if !recipes.isEmpty { lines += ["", aligned(recipes, indent: "    ")] }
        return lines.joined(separator: "\n") + "\n" + tasks
    }

    static func host(_ choices: DeployfileChoices, user: String?) -> String {
        "Host(\"\(choices.host)\"" + (user.map { ", user: \"\($0)\"" } ?? "") + (choices.port.map { ", port: \($0)" } ?? "")
            + ", roles: .web, .db)"
    }

    static let tasks = #"""

            Task("uptime", "Show load on every host") {
                Run("uptime")
            }

            Task("disk", "Show free space where the app lives", on: .web) {
                Run("mkdir -p \(Settings["app_dir"])")
                Run("df -h \(Settings["app_dir"]) | tail -1")
            }

            Task("hello", "Greet someone from every web host", on: .web, arguments: "name") { arguments in
                Run("echo Hello, \(arguments["name"]), from $(hostname)")
            }

            Task("check-api", "Call the API with the secret token", on: .web, once: true) {
                Run("test -n \(Settings["api_token"]) && echo token present")
            }

            Task("release-info", "Show the newest release, if any", on: .web, strategy: .rolling(1)) {
                Within(Settings["app_dir"]) {
                    When("test -d releases") {
                        Run("ls -1 releases | tail -n 1")
                    } otherwise: {
                        Run("echo no release yet")
                    }
                }
            }

            Task("tidy", "Remove old temporary files", on: .web) {
                Run(["find", "/tmp", "-maxdepth", "1", "-name", "swiftfab-example-*", "-mtime", "+7", "-delete"])
                // Plain Swift with the host's answers: clean up only when there is something to clean.
                Dynamic("empty the scratch folder when it is too big") { host in
                    let kilobytes = try await host.output("du -sk /tmp/swiftfab-example 2>/dev/null | cut -f1 || echo 0")
                    if (Int(kilobytes) ?? 0) > 1024 {
                        try await host.run("rm -rf /tmp/swiftfab-example")
                    }
                }
            }

            Before("release-info", run: "disk")
        }

        """#

    typealias Row = (code: String, comment: String?)

    /// Lines with their comments in one column, so a block reads as a table.
    static func aligned(_ rows: [Row], indent: String) -> String {
        let width = rows.filter { $0.comment != nil }.map(\.code.count).max() ?? 0
        return rows.map { row in
            guard let comment = row.comment else { return indent + row.code }
            return indent + row.code.padding(toLength: width, withPad: " ", startingAt: 0) + "  // " + comment
        }.joined(separator: "\n")
    }
}
