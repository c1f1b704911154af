/// The Deployfile `swiftfab init` writes: the same text as Deployfile.swift.example
/// at the repository's root (a test keeps the two equal).
enum ExampleDeployfile {
    static let text = #"""
import SwiftFab
import SwiftFabRecipes

// A Deployfile describes your servers and what to run on them.
// List the tasks: swiftfab --list    See exactly what a task runs: swiftfab uptime --dry-run
let deployfile = Deployfile("shop") {
    // Three local sandbox hosts: `scripts/testhosts start 3` starts them and writes this ssh config.
    // Replace them with your servers: ssh config aliases or host names (your ~/.ssh/config applies).
    Environment("sandbox", default: true, sshConfig: "/tmp/swiftfab-testhosts/ssh_config") {
        Host("th1", roles: .web, .db)
        Host("th2", roles: .web)
        Host("th3", roles: .web)
    }
    Environment("production") {
        Host("web1.example.com", user: "deploy", roles: .web, .db)
        Host("web2.example.com", user: "deploy", roles: .web)
    }

    Setting("app_dir", "/srv/shop")
    // Secrets come from the environment (or an env file) and are redacted everywhere.
    EnvFile(".env", optional: true)
    Setting("api_token", .secret(env: "SHOP_API_TOKEN"))

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

    Task("release-info", "Show the live release, if any", on: .web, strategy: .rolling(1)) {
        Within(Settings["app_dir"]) {
            When("test -f REVISION") {
                Run("cat REVISION")
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
}
