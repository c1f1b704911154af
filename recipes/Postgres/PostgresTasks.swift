import Foundation
import SwiftFab

/// The PostgreSQL recipe's tasks: `backup [--download [DIR]]`, `backups`,
/// `restore NAME|--from-local FILE [--yes]`, `prune-backups [--keep N] [--max-age DAYS]`.
/// Hosts go one at a time (a restore asks per host) and stop at the first failure.
public func Postgres(_ config: PostgresConfig) -> DeployfileItem {
    let db = config.database
    return Recipe {
        TaskDefinition(name: "backup", description: "Back up \(db) (pg_dump -Fc, fsynced, sha256); --download [DIR] also copies it here",
                       roles: config.roles, strategy: .rolling(1), failurePolicy: .failFast) { arguments in
            let download: String?
            do { download = try BackupArguments(arguments.values).download } catch { return [argumentError(error)] }
            if DryRunPreview.isActive {
                // Named by the host's clock when it runs; the local one here.
                let name = BackupCatalog.name(database: db, at: Date())
                let commands = PostgresCommands(config: config, password: DryRunPreview.password(config))
                return [.run(Command("date", "-u", "+%s")), .run(commands.backup(name))] + (download.map { [.download(remote: commands.path(name), local: $0 + "/" + name)] } ?? [])
            }
            return [Dynamic("back up \(db) to \(config.backups)") { host in
                let worker = PostgresOperator(config: config, password: try PostgresTasks.password(config, host.settings))
                let name = try await worker.newName(on: host.backend)
                let backup = try await worker.backup(on: host.backend, name: name)
                host.note("backup \(backup.path): \(Format.bytes(backup.bytes)) in \(Format.seconds(backup.seconds)), sha256 \(backup.sha256.prefix(16))…")
                if let download {
                    let local = try await worker.download(on: host.backend, name: name, to: download)
                    host.note("downloaded to \(local) (sha256 matches the server's)")
                }
            }]
        }
        TaskDefinition(name: "backups", description: "List \(db)'s backups on each host: name, size, age, checksum; newest first",
                       roles: config.roles) { _ in
            if DryRunPreview.isActive { return [.run(PostgresCommands(config: config).list())] }
            return [Dynamic("list \(db) backups in \(config.backups)") { host in
                let (now, entries) = try await PostgresOperator(config: config).list(on: host.backend)
                if entries.isEmpty { host.note("no backups in \(config.backups) yet"); return }
                for line in BackupTable.lines(entries, now: now) { host.note(line) }
            }]
        }
        TaskDefinition(name: "restore", description: "Restore \(db) from a backup (NAME, or --from-local FILE): verified, safety backup first, one transaction",
                       roles: config.roles, strategy: .sequential, failurePolicy: .failFast, arguments: ["name"]) { arguments in
            let options: RestoreArguments
            do { options = try RestoreArguments(arguments.values) } catch { return [argumentError(error)] }
            if DryRunPreview.isActive {
                let commands = PostgresCommands(config: config, password: DryRunPreview.password(config))
                let name = options.name ?? PostgresOperator.uploadName(options.localFile ?? "")
                let safety = BackupCatalog.name(database: db, at: Date(), safety: true)
                let staging = commands.path(".upload-XXXXXXXX.partial")
                let upload: [Step] = options.localFile.map { [.upload(local: $0, remote: staging, mode: 0o600), .run(commands.adopt(staging, as: name))] } ?? []
                let checks: [Step] = [.run(commands.verify(name)), .run(commands.contents(name)),
                                      .dynamic(options.yes ? "confirmed by --yes" : "ask for confirmation (a terminal, or --yes)", { _ in })]
                let restore: [Step] = [.run(commands.backup(safety)), .run(commands.restore(name))]
                guard let pause = config.pauseWrites else { return upload + checks + restore }
                let take: [Step] = pause.lock.map { [.run($0.acquire(who: "restore of \(name)", revision: "restore", token: "TOKEN"))] } ?? []
                let release: [Step] = pause.lock.map { [.run($0.release(token: "TOKEN"))] } ?? []
                if options.stopWrites { return upload + checks + take + [.run(pause.stop)] + restore + [.run(pause.resume)] + release }
                return upload + checks + [.dynamic("offer to stop \(pause.description) meanwhile (on a terminal; --stop-writes: without asking)", { _ in })] + restore
            }
            return [Dynamic("restore \(db) from \(options.name ?? options.localFile ?? "")") { host in
                // Without a terminal nobody can answer: refuse before doing anything.
                if !options.yes { try LocalFiles.requireTerminal() }
                let worker = PostgresOperator(config: config, password: try PostgresTasks.password(config, host.settings))
                var name = options.name ?? ""
                if let file = options.localFile {
                    name = try await worker.upload(on: host.backend, file: file)
                    host.note("uploaded \(file) as \(worker.commands.path(name)) (sha256 checked)")
                }
                let restored = try await worker.restore(on: host.backend, name: name, confirm: { question in
                    if !options.yes { try LocalFiles.confirm(question) }
                }, pauseWrites: {
                    guard let writes = config.pauseWrites, !options.stopWrites, !options.yes else { return options.stopWrites }
                    return LocalFiles.ask("Stop \(writes.description) during the restore, so no write is lost?")
                }, note: host.note)
                host.note("restored \(restored.name) into \(db): \(restored.tables) table\(restored.tables == 1 ? "" : "s") in \(Format.seconds(restored.seconds)); "
                          + "the database as it was before is in \(restored.safety.path)")
            }]
        }
        TaskDefinition(name: "prune-backups", description: "Remove old \(db) backups by count (--keep N) and/or age (--max-age DAYS)",
                       roles: config.roles) { arguments in
            let options: PruneArguments
            do { options = try PruneArguments(arguments.values, config: config) } catch { return [argumentError(error)] }
            if DryRunPreview.isActive {
                return [.run(PostgresCommands(config: config).list()),
                        .dynamic("remove what retention allows (keep \(options.keep.map(String.init) ?? "any"), max age \(options.maxAgeDays.map { "\($0) days" } ?? "any")); never the newest valid backup or a safety backup younger than a day", { _ in })]
            }
            return [Dynamic("prune \(db) backups in \(config.backups)") { host in
                let result = try await PostgresOperator(config: config).prune(on: host.backend, keep: options.keep, maxAgeDays: options.maxAgeDays)
                host.note(result.removed.isEmpty ? "nothing to remove" : "removed \(result.removed.count): " + result.removed.joined(separator: ", "))
                if !result.damaged.isEmpty {
                    host.note("kept for a person to look at (checksum fails): " + result.damaged.joined(separator: ", "))
                }
            }]
        }
    }
}

enum PostgresTasks {
    /// The password from its setting, read when the task runs.
    static func password(_ config: PostgresConfig, _ settings: ResolvedSettings) throws -> Secret? {
        guard let name = config.passwordSetting else { return nil }
        switch settings[name] {
        case .secret(let secret): return secret
        case .plain(let text): return Secret(text)
        case nil:
            if let variable = settings.missing[name] {
                throw SwiftFabError(.config, "the password setting \(name) needs the environment variable \(variable), which is not set")
            }
            throw SwiftFabError(.config, "no setting named \(name) in the Deployfile (passwordSetting: of the Postgres recipe)",
                                hint: "add Setting(\"\(name)\", .secret(env: \"DB_PASSWORD\"))")
        }
    }
}

/// A step that fails with a message (bad task arguments).
private func argumentError(_ error: Error) -> Step {
    Dynamic("check the arguments") { _ in throw error }
}

/// `--dry-run` shows a task's plan without running its body, so the tasks
/// plan their exact commands instead of a dynamic step when it is on.
private enum DryRunPreview {
    static var isActive: Bool { RunStatus.dryRun }

    /// The password setting as the plan sees it (shown as [secret]).
    static func password(_ config: PostgresConfig) -> Secret? {
        guard let name = config.passwordSetting else { return nil }
        switch Settings[name] {
        case .secret(let secret): return secret
        case .plain(let text): return Secret(text)
        }
    }
}

/// `backups`' table: name, size, age, checksum status.
private enum BackupTable {
    static func lines(_ entries: [BackupEntry], now: Date) -> [String] {
        let width = max(4, entries.map(\.name.count).max() ?? 0)
        let header = "NAME".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + pad("SIZE", 10) + "  " + pad("AGE", 8) + "  CHECKSUM"
        return [header] + entries.map { entry in
            let checksum = entry.checksum == .ok ? "ok" : entry.checksum == .missing ? "MISSING" : "MISMATCH (damaged)"
            return entry.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + pad(Format.bytes(entry.bytes), 10)
                + "  " + pad(age(now.timeIntervalSince(entry.taken)), 8) + "  " + checksum
        }
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    static func age(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86_400 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        return "\(s / 86_400)d\(s % 86_400 / 3600)h"
    }
}

struct BackupArguments {
    var download: String?

    init(_ values: [String]) throws {
        var rest = values[...]
        while let value = rest.popFirst() {
            switch value {
            case "--": continue
            case "--download":
                if let next = rest.first, !next.hasPrefix("-") { download = next; rest = rest.dropFirst() } else { download = "." }
            default:
                throw SwiftFabError.invalidInput("backup does not take \(value)", hint: "backup [--download [DIR]]")
            }
        }
    }
}

struct RestoreArguments {
    var name: String?
    var localFile: String?
    var yes = false
    /// Stop the app's writes (the configured `WritePause`) without asking.
    var stopWrites = false

    init(_ values: [String]) throws {
        var rest = values[...]
        while let value = rest.popFirst() {
            switch value {
            case "--": continue
            case "--yes", "-y": yes = true
            case "--stop-writes": stopWrites = true
            case "--from-local":
                guard let file = rest.popFirst() else { throw SwiftFabError.invalidInput("--from-local needs a file") }
                localFile = file
            case let flag where flag.hasPrefix("-"):
                throw SwiftFabError.invalidInput("restore does not know \(flag)", hint: "restore NAME|--from-local FILE [--yes] [--stop-writes]")
            default:
                guard name == nil else { throw SwiftFabError.invalidInput("restore takes one backup name, not \(name!) and \(value)") }
                name = value
            }
        }
        guard (name == nil) != (localFile == nil) else {
            throw SwiftFabError.invalidInput("restore needs a backup name or --from-local FILE (one of them)",
                                             hint: "swiftfab backups lists the names; restore NAME [--yes]")
        }
        if let name, name.contains("/") {
            throw SwiftFabError.invalidInput("\(name) is a path: restore takes a backup's name", hint: "for a file on this machine: restore --from-local \(name)")
        }
    }
}

struct PruneArguments {
    var keep: Int?
    var maxAgeDays: Int?

    init(_ values: [String], config: PostgresConfig) throws {
        keep = config.keep
        maxAgeDays = config.maxAgeDays
        var rest = values[...]
        while let value = rest.popFirst() {
            switch value {
            case "--": continue
            case "--keep":
                guard let count = rest.popFirst().flatMap({ Int($0) }), count >= 1 else { throw SwiftFabError.invalidInput("--keep takes a count of 1 or more") }
                keep = count
            case "--max-age":
                guard let days = rest.popFirst().flatMap({ Int($0) }), days >= 1 else { throw SwiftFabError.invalidInput("--max-age takes a number of days, 1 or more") }
                maxAgeDays = days
            default:
                throw SwiftFabError.invalidInput("prune-backups does not take \(value)", hint: "prune-backups [--keep N] [--max-age DAYS]")
            }
        }
        guard keep != nil || maxAgeDays != nil else {
            throw SwiftFabError.invalidInput("no retention is set, so nothing would be removed",
                                             hint: "pass --keep N and/or --max-age DAYS, or set keep:/maxAgeDays: in PostgresConfig")
        }
    }
}
