import Foundation

/// Which environment and hosts a run is for, from `-e`, `-H` and `-R`:
/// never a guess, and a name that matches nothing is an error naming what
/// there is (with the nearest names).
struct HostSelection {
    var environment: Environment?
    var hosts: [HostDefinition]

    init(deployfile: Deployfile, globals: GlobalOptions) throws(CommandLineError) {
        environment = try Self.environment(deployfile, globals)
        if let wanted = globals.hosts.map(Self.list) {
            guard !wanted.isEmpty else { throw CommandLineError("-H needs at least one host") }
            if let environment {
                hosts = try wanted.map { name throws(CommandLineError) in try Self.host(named: name, in: environment) }
            } else {
                // No environment: any hosts, as ssh knows them, taken for every role.
                let roles = Set(deployfile.environments.flatMap { $0.hosts.flatMap(\.roles) } + deployfile.tasks.flatMap(\.roles))
                hosts = wanted.map { HostDefinition(address: $0, roles: roles) }
            }
        } else {
            hosts = environment?.hosts ?? []
        }
        if let roles = globals.roles.map(Self.list) {
            let known = Set(deployfile.environments.flatMap { $0.hosts.flatMap(\.roles) } + deployfile.tasks.flatMap(\.roles)).map(\.name)
            for role in roles where !known.contains(role) {
                throw CommandLineError("no host or task has the role \(role)", hint: Self.suggest(role, among: known, what: "roles"))
            }
            let wanted = Set(roles.map { Role($0) })
            hosts = hosts.filter { !$0.roles.isDisjoint(with: wanted) }
        }
        if let user = globals.user {
            guard !user.isEmpty, !user.contains("@"), !user.contains(" ") else { throw CommandLineError("--user takes a user name, not \(Shell.quote(user))") }
            do throws(SSHName.Refusal) { try SSHName.checkUser(user) } catch { throw CommandLineError("--user: " + error.message, hint: error.hint) }
            hosts = hosts.map { host in var copy = host; copy.user = user; return copy }
        }
        // Before the ssh config is read: its ProxyCommand may put %h and %r into a shell.
        for host in hosts {
            do throws(SSHName.Refusal) { try SSHName.checkTarget(host.target) } catch { throw CommandLineError("-H: " + error.message, hint: error.hint) }
        }
        if hosts.isEmpty {
            throw CommandLineError("no hosts selected", hint: "check -e, -H and -R" + (environment.map { " (\($0.name) has: \($0.hosts.map(\.address).joined(separator: ", ")))" } ?? ""))
        }
    }

    /// -e, or the only environment, or the one marked default; with -H and none of those, no environment.
    static func environment(_ deployfile: Deployfile, _ globals: GlobalOptions) throws(CommandLineError) -> Environment? {
        let names = deployfile.environments.map(\.name)
        if let name = globals.environment {
            guard let environment = deployfile.environment(named: name) else {
                throw CommandLineError("no environment \(name) in the Deployfile", hint: suggest(name, among: names, what: "environments"))
            }
            return environment
        }
        if deployfile.environments.count == 1 { return deployfile.environments[0] }
        if let preferred = deployfile.environments.first(where: \.isDefault) { return preferred }
        if globals.hosts != nil { return nil }
        if names.isEmpty { throw CommandLineError("the Deployfile declares no Environment and no -H hosts were given") }
        throw CommandLineError("choose an environment with -e (\(names.joined(separator: ", ")))", hint: "or mark one Environment(..., default: true)")
    }

    /// The environment's host `name` names: its address, its short name (before the first dot) or `user@address`.
    static func host(named name: String, in environment: Environment) throws(CommandLineError) -> HostDefinition {
        let short = { (host: HostDefinition) in String(host.address.split(separator: ".").first ?? "") }
        if let host = environment.hosts.first(where: { $0.address == name || $0.target == name })
            ?? environment.hosts.first(where: { short($0) == name }) { return host }
        let names = environment.hosts.map(\.address)
        throw CommandLineError("\(environment.name) has no host \(name)", hint: suggest(name, among: names, what: "hosts in \(environment.name)"))
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// "did you mean X? (the roles are: a, b, c)"
    static func suggest(_ name: String, among names: [String], what: String) -> String {
        let near = EditDistance.near(name, in: names)
        let all = "the \(what) are: " + (names.isEmpty ? "none" : names.sorted().joined(separator: ", "))
        return near.isEmpty ? all : "did you mean \(near.prefix(3).joined(separator: " or "))? (\(all))"
    }
}
