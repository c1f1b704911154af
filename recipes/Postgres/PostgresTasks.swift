import Foundation
import SwiftFab

/// The PostgreSQL recipe's tasks: `backup [--download [DIR]]`, `backups`,
/// `restore NAME|--from-local FILE [--yes]`, `prune-backups [--keep N] [--max-age DAYS]`.
/// Hosts go one at a time (a restore asks per host) and stop at the first failure.
public func Postgres(_ config: PostgresConfig) -> DeployfileItem {
    let db = config.database
    let keepOption = Option<Int?>("keep", value: "N", help: "Keep the newest N backups", default: config.keep, minimum: 1)
    let maxAgeOption = Option<Int?>("max-age", value: "DAYS", help: "Remove backups older than DAYS", default: config.maxAgeDays, minimum: 1)
    return Recipe {
        TaskDefinition(name: "backup", description: "Back up \(db) (pg_dump -Fc, fsynced, sha256); --download [DIR] also copies it here",
                       roles: config.roles, strategy: .rolling(1), failurePolicy: .failFast, options: [PostgresTasks.download]) { arguments in
            let download = arguments[PostgresTasks.download]
            return [Dynamic("back up \(db) to \(config.backups)") { host in
                let worker = PostgresOperator(config: config, password: try PostgresTasks.password(config, host.settings, run: host.run))
                let name = try await worker.newName(on: host.backend)
                let backup = try await worker.backup(on: host.backend, name: name)
                host.note("backup \(backup.path): \(Format.bytes(backup.bytes)) in \(Format.seconds(backup.seconds)), sha256 \(backup.sha256.prefix(16))…")
                if let download {
                    let local = try await worker.download(on: host.backend, name: name, to: download)
                    if !host.run.dryRun { host.note("downloaded to \(local) (sha256 matches the server's)") }
                }
            }]
        }
        TaskDefinition(name: "backups", description: "List \(db)'s backups on each host: name, size, age, checksum; newest first",
                       roles: config.roles) { _ in
            [Dynamic("list \(db) backups in \(config.backups)") { host in
                let (now, entries) = try await PostgresOperator(config: config).list(on: host.backend)
                if entries.isEmpty { host.result("no backups in \(config.backups) yet"); return }
                for line in BackupTable.lines(entries, now: now) { host.result(line) }
            }]
        }
        TaskDefinition(name: "restore", description: "Restore \(db) from a backup (NAME, or --from-local FILE): verified, safety backup first, one transaction",
                       roles: config.roles, strategy: .sequential, failurePolicy: .failFast, options: [RestoreOptions.name, RestoreOptions.fromLocal, RestoreOptions.yes, RestoreOptions.stopWrites]) { arguments in
            let options = try RestoreOptions(arguments)
            let dryRun = arguments.run.dryRun
            return [Dynamic("restore \(db) from \(options.name ?? options.localFile ?? "")") { host in
                // Without a terminal nobody can answer: refuse before doing anything (a dry run asks nobody).
                let prompter = host.run.prompter
                if !options.yes && !dryRun { try LocalFiles.requireTerminal(prompter) }
                let worker = PostgresOperator(config: config, password: try PostgresTasks.password(config, host.settings, run: host.run))
                var name = options.name ?? ""
                if let file = options.localFile {
                    name = try await worker.upload(on: host.backend, file: file)
                    host.note("uploaded \(file) as \(worker.commands.path(name)) (sha256 checked)")
                }
                let restored = try await worker.restore(on: host.backend, name: name, confirm: { question in
                    if dryRun { host.note("would ask: \(question)") } else if !options.yes { try LocalFiles.confirm(question, prompter) }
                }, pauseWrites: {
                    guard let writes = config.pauseWrites, !options.stopWrites, !options.yes else { return options.stopWrites }
                    if dryRun { host.note("would offer to stop \(writes.description) during the restore (--stop-writes: without asking)"); return false }
                    return LocalFiles.ask("Stop \(writes.description) during the restore, so no write is lost?", prompter)
                }, note: host.note, committed: { host.recordInHistory("\(db) from \($0.name); safety backup \($0.safety.path)") })
                host.note("restored \(restored.name) into \(db): \(restored.tables) table\(restored.tables == 1 ? "" : "s") in \(Format.seconds(restored.seconds)); "
                          + "the database as it was before is in \(restored.safety.path)")
            }]
        }.recordedInHistory()
        TaskDefinition(name: "prune-backups", description: "Remove old \(db) backups by count (--keep N) and/or age (--max-age DAYS)",
                       roles: config.roles, options: [keepOption, maxAgeOption]) { arguments in
            let keep = arguments[keepOption], maxAgeDays = arguments[maxAgeOption]
            guard keep != nil || maxAgeDays != nil else {
                throw SwiftFabError.invalidInput("no retention is set, so nothing would be removed",
                                                 hint: "pass --keep N and/or --max-age DAYS, or set keep:/maxAgeDays: in PostgresConfig")
            }
            let options = (keep: keep, maxAgeDays: maxAgeDays)
            return [Dynamic("prune \(db) backups in \(config.backups)") { host in
                let result = try await PostgresOperator(config: config).prune(on: host.backend, keep: options.keep, maxAgeDays: options.maxAgeDays)
                host.note(result.removed.isEmpty ? "nothing to remove" : "removed \(result.removed.count): " + result.removed.joined(separator: ", "))
                if !result.damaged.isEmpty {
                    host.note("kept for a person to look at (checksum fails): " + result.damaged.joined(separator: ", "))
                }
                host.recordInHistory("\(db) backups: removed \(result.removed.count)" + (result.removed.isEmpty ? "" : " (" + result.removed.joined(separator: ", ") + ")"))
            }]
        }.recordedInHistory()
    }
}

enum PostgresTasks {
    static let download = Option<String?>.path("download", value: "DIR", help: "Also copy the backup to DIR on this machine, checked against the server's sha256",
                                               implicit: ".")
    /// The password from its setting, read when the task runs.
    static func password(_ config: PostgresConfig, _ settings: ResolvedSettings, run: RunContext) throws -> Secret? {
        guard let name = config.passwordSetting else { return nil }
        switch settings[name] {
        case .secret(let secret): return secret
        case .plain(let text): return Secret(text)
        case nil:
            if let variable = settings.missing[name] {
                if run.dryRun { return Secret(notSet: variable) }
                throw SwiftFabError(.config, "the password setting \(name) needs the environment variable \(variable), which is not set")
            }
            throw SwiftFabError(.config, "no setting named \(name) in the Deployfile (passwordSetting: of the Postgres recipe)",
                                hint: "add Setting(\"\(name)\", .secret(env: \"DB_PASSWORD\"))")
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

/// `restore`'s options, checked together when it is planned.
struct RestoreOptions {
    var name: String?
    var localFile: String?
    var yes: Bool
    /// Stop the app's writes (the configured `WritePause`) without asking.
    var stopWrites: Bool

    static let name = Argument<String?>("name", help: "The backup to restore, by name (swiftfab backups lists them)")
    static let fromLocal = Option<String?>.path("from-local", value: "FILE", help: "Restore a dump on this machine instead: it is uploaded and checked first")
    static let yes = Flag("yes", short: "y", help: "Confirm up front (scripts); without it, a terminal must answer")
    static let stopWrites = Flag("stop-writes", help: "Stop the app's writes during the restore without asking (the configured WritePause)")

    init(_ arguments: TaskArguments) throws {
        name = arguments[Self.name]
        localFile = arguments[Self.fromLocal]
        yes = arguments[Self.yes]
        stopWrites = arguments[Self.stopWrites]
        guard (name == nil) != (localFile == nil) else {
            throw SwiftFabError.invalidInput("restore needs a backup name or --from-local FILE (one of them)",
                                             hint: "swiftfab backups lists the names; restore NAME [--yes]")
        }
        // Also when planned without a command line (a hook, Invoke): "" names no backup.
        if let name, name.isBlank {
            throw SwiftFabError.invalidInput("the backup's name is empty", hint: "swiftfab backups lists the names; restore NAME [--yes]")
        }
        if let name, name.contains("/") {
            throw SwiftFabError.invalidInput("\(name) is a path: restore takes a backup's name", hint: "for a file on this machine: restore --from-local \(name)")
        }
    }
}

