import Foundation
import SwiftFab

/// Backs up, lists, restores and prunes one host's backups, on any backend.
public struct PostgresOperator: Sendable {
    public let config: PostgresConfig
    public let commands: PostgresCommands

    public init(config: PostgresConfig, password: Secret? = nil) {
        self.config = config
        commands = PostgresCommands(config: config, password: password)
    }

    var secrets: [Secret] { commands.password.map { [$0] } ?? [] }

    public struct Backup: Sendable, Equatable {
        public var name: String
        public var path: String
        public var bytes: Int64
        public var sha256: String
        public var seconds: Double
    }

    /// A complete, checksummed backup, or an error and no backup at all.
    public func backup(on backend: any Backend, name: String) async throws -> Backup {
        let start = monotonicNow()
        let result = try await backend.run(commands.backup(name))
        let fields = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").map(String.init)
        guard result.succeeded, fields.count == 3, let bytes = Int64(fields[1]) else {
            let why = lastLines(result.stderrText.isEmpty ? result.summary : result.stderrText)
            throw SwiftFabError(.command, host: backend.host,
                                "backup of \(config.database) failed: \(why); no backup was written (the partial file is removed)",
                                hint: hint(for: result.stderrText))
        }
        return Backup(name: name, path: commands.path(name), bytes: bytes, sha256: fields[2], seconds: monotonicNow() - start)
    }

    /// A new backup's name, stamped by the server's clock: the clock that
    /// later ages and prunes it (the operator's laptop may be hours off).
    public func newName(on backend: any Backend, safety: Bool = false) async throws -> String {
        let result = try await backend.run(Command("date", "-u", "+%s").described("read the host's clock (it names the backup)")
            .assuming("\(Int(Date().timeIntervalSince1970))\n", because: "the host's clock reads what this machine's does"))
        guard result.succeeded, let seconds = Double(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SwiftFabError(.command, host: backend.host, "cannot read the host's clock (date -u +%s): \(lastLines(result.stderrText.isEmpty ? result.summary : result.stderrText)); no backup was taken")
        }
        return BackupCatalog.name(database: config.database, at: Date(timeIntervalSince1970: seconds), safety: safety)
    }

    /// The host's backups, newest first, and the host's clock.
    public func list(on backend: any Backend) async throws -> (now: Date, entries: [BackupEntry]) {
        let result = try await backend.run(commands.list())
        guard result.succeeded else {
            throw SwiftFabError(.command, host: backend.host, "cannot list \(config.backups): \(lastLines(result.stderrText))")
        }
        return BackupCatalog.parse(result.stdoutText)
    }

    /// Copies a backup here and proves the copy is the server's file.
    public func download(on backend: any Backend, name: String, to directory: String) async throws -> String {
        let serverSum = try await backend.run(commands.checksum(name)).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let local = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        let copied = try await backend.download(commands.path(name), to: local, TransferOptions())
        guard copied.files > 0 else { return local }   // nothing came (a dry run): nothing to check
        let localSum = try LocalFiles.sha256(local)
        guard localSum == serverSum else {
            try? FileManager.default.removeItem(atPath: local)
            throw SwiftFabError(.transfer, host: backend.host, "the downloaded copy of \(name) does not match the server's sha256 (\(localSum) vs \(serverSum)); it was removed",
                                hint: "run the download again: swiftfab backup --download")
        }
        try LocalFiles.writeChecksum(localSum, for: local)
        return local
    }

    /// Uploads a local dump into the backups directory (checked end to end) and returns its name there.
    public func upload(on backend: any Backend, file: String) async throws -> String {
        guard FileManager.default.fileExists(atPath: file) else {
            throw SwiftFabError(.invalidInput, "no such local file: \(file)")
        }
        let localSum = try LocalFiles.sha256(file)
        if let recorded = LocalFiles.recordedChecksum(for: file), recorded != localSum {
            throw SwiftFabError(.invalidInput, "\(file) does not match its \(file).sha256: the file is damaged; nothing was uploaded or restored")
        }
        let name = Self.uploadName(file)
        let existing = try await list(on: backend).entries.first { $0.name == name }
        if existing != nil {
            let serverSum = try await backend.run(commands.checksum(name)).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard serverSum == localSum else {
                throw SwiftFabError(.invalidInput, host: backend.host, "a different backup named \(name) already exists in \(config.backups)",
                                    hint: "rename the local file, or restore the server's copy by name: swiftfab restore \(name)")
            }
            return name
        }
        let staging = commands.path(".upload-\(UUID().uuidString.prefix(8)).partial")
        _ = try await backend.run(Command("mkdir", "-p", config.backups))
        _ = try await backend.upload(file, to: staging, TransferOptions(mode: 0o600))
        let adopted = try await backend.run(commands.adopt(staging, as: name).assuming(localSum + "\n", because: "the upload arrives whole"))
        let serverSum = adopted.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard adopted.succeeded, serverSum == localSum else {
            // Only what this upload put there goes: a refused adopt may have met another backup of that name.
            _ = try? await backend.run((adopted.succeeded ? commands.remove([name]) : Command("rm", "-f", "--", staging)).asCleanup())
            throw SwiftFabError(.transfer, host: backend.host, "the uploaded copy of \(file) does not arrive whole (\(lastLines(adopted.stderrText.isEmpty ? serverSum : adopted.stderrText))); nothing was restored")
        }
        return name
    }

    /// A local file's name in the backups directory: its own, ending in `.dump`.
    static func uploadName(_ file: String) -> String {
        let name = URL(fileURLWithPath: file).lastPathComponent
        return name.hasSuffix(BackupCatalog.suffix) ? name : name + BackupCatalog.suffix
    }

    public struct Restored: Sendable, Equatable {
        public var name: String
        public var tables: Int
        public var seconds: Double
        public var safety: Backup
    }

    /// Checks the backup, asks, takes a safety backup, then restores in one transaction.
    /// When `pauseWrites` answers yes (asked after the confirmation, and only
    /// with a `WritePause` configured) the app's writes stop
    /// before the safety backup and start again after the restore, even a failed one.
    /// `committed` hears of the commit as soon as it is known, also when the
    /// run is stopped right after it (the host's history must say what the database holds).
    public func restore(on backend: any Backend, name: String, confirm: @Sendable (String) throws -> Void,
                        pauseWrites: @Sendable () -> Bool = { false }, note: @escaping @Sendable (String) -> Void = { _ in },
                        committed: @escaping @Sendable (Restored) -> Void = { _ in }) async throws -> Restored {
        let tables = try await check(on: backend, name: name)
        try confirm("Restore \(name) (\(tables) table\(tables == 1 ? "" : "s")) into \(config.database) on \(backend.host), replacing its current contents?")
        let notes = RestoreNotes(note: note, committed: committed)
        guard let pause = config.pauseWrites, pauseWrites() else {
            return try await restoreChecked(on: backend, name: name, tables: tables, note: notes)
        }
        // The app's deploy lock is held from the stop to the start again: a deploy
        // meanwhile would start what the pause stopped (or the pause stop what it started).
        let token = try await pause.lock?.take(on: backend, who: "restore of \(name)", revision: "restore", note: note)
        let outcome: Result<Restored, Error>
        do { outcome = .success(try await restorePaused(pause, on: backend, name: name, tables: tables, note: notes)) } catch { outcome = .failure(error) }
        if let token, let lock = pause.lock { _ = try? await backend.run(lock.release(token: token)) }
        return try outcome.get()
    }

    /// Stops the app's writes, restores, and starts them again whatever happened.
    private func restorePaused(_ pause: WritePause, on backend: any Backend, name: String, tables: Int,
                               note: RestoreNotes) async throws -> Restored {
        let stopped = try await backend.run(pause.stop)
        guard stopped.succeeded else {
            _ = try? await backend.run(pause.resume.asCleanup())
            throw SwiftFabError(.command, host: backend.host, "cannot stop \(pause.description) (\(lastLines(stopped.stderrText.isEmpty ? stopped.summary : stopped.stderrText))); nothing was restored")
        }
        let said = stopped.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        note(said.isEmpty ? "stopped \(pause.description) for the restore" : said)
        let start = monotonicNow()
        let outcome: Result<Restored, Error>
        do { outcome = .success(try await restoreChecked(on: backend, name: name, tables: tables, note: note)) } catch { outcome = .failure(error) }
        let resumed = try? await backend.run(pause.resume.asCleanup())
        if resumed?.succeeded == true {
            note("started \(pause.description) again after \(Format.seconds(monotonicNow() - start))")
        } else if let check = pause.check, (try? await backend.run(check.asCleanup()))?.succeeded == true {
            // The start gave no clear answer (a lost reply, a slow stop): the host is asked before anything is claimed.
            note("started \(pause.description) again (the host confirms it answers) after \(Format.seconds(monotonicNow() - start))")
        } else {
            note("COULD NOT START \(pause.description) AGAIN: \(lastLines(resumed?.stderrText ?? "no answer")); start it by hand: \(pause.resume.display)")
        }
        return try outcome.get()
    }

    private func restoreChecked(on backend: any Backend, name: String, tables: Int, note: RestoreNotes) async throws -> Restored {
        let safetyName = try await newName(on: backend, safety: true)
        let safety: Backup
        do {
            safety = try await backup(on: backend, name: safetyName)
        } catch let error as SwiftFabError {
            throw SwiftFabError(error.kind == .interrupted ? .interrupted : .command, host: backend.host,
                                "cannot take a safety backup of the current \(config.database) first, so nothing was restored: \(error.message)",
                                hint: error.hint)
        }
        note("safety backup of the current database: \(safety.path) (\(Format.bytes(safety.bytes)))")
        let start = monotonicNow()
        let output = FirstOutput()
        let result: CommandResult
        do {
            result = try await backend.run(commands.restore(name), ExecOptions(onOutput: { output.add($0) }))
        } catch let error as SwiftFabError where error.kind == .interrupted {
            throw await stopped(on: backend, name: name, tables: tables, safety: safety, since: start,
                                transaction: RestoreTransaction(output: output.text),
                                unfenced: output.text.contains(RestoreTransaction.unknownLine), note: note)
        }
        guard result.succeeded else {
            throw SwiftFabError(.command, host: backend.host,
                                "restoring \(name) failed: \(lastLines(result.stderrText.isEmpty ? result.summary : result.stderrText)); it ran as one transaction, so \(config.database) is unchanged",
                                hint: (result.stderrText.contains("lock timeout") ? "another session holds locks on its tables (the app's open transactions): stop the app's writes (--stop-writes, or stop the app), then restore again. " : "")
                                    + "The safety backup taken just before is \(safety.path); should \(config.database) not be as it was, put it back with: swiftfab restore \(safety.name) --yes")
        }
        let restored = Restored(name: name, tables: tables, seconds: monotonicNow() - start, safety: safety)
        note.committed(restored)
        return restored
    }

    /// A restore stopped while it ran: the database, not a guess, says
    /// whether it committed, and the error says what the database holds.
    private func stopped(on backend: any Backend, name: String, tables: Int, safety: Backup, since start: Double,
                         transaction: RestoreTransaction?, unfenced: Bool, note: RestoreNotes) async -> SwiftFabError {
        let db = config.database
        let putBack = "should \(db) not be as it was, the safety backup taken just before puts it back: swiftfab restore \(safety.name) --yes"
        guard let transaction else {
            if unfenced {
                return SwiftFabError(.interrupted, host: backend.host,
                                     "interrupted while restoring \(name) in one transaction; this server's pg_restore is older than August 2025's releases, so the restore ran without psql and the database cannot be asked whether it committed",
                                     hint: "look at \(db) to see which it holds; " + putBack)
            }
            return SwiftFabError(.interrupted, host: backend.host, "interrupted before the restore began its transaction: \(db) is unchanged", hint: putBack)
        }
        let answer = try? await backend.run(commands.restoreOutcome(transaction))
        switch answer.map({ $0.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) }) {
        case "committed":
            note.committed(Restored(name: name, tables: tables, seconds: monotonicNow() - start, safety: safety))
            return SwiftFabError(.interrupted, host: backend.host,
                                 "interrupted after the restore committed: \(db) holds \(name) now; the database as it was before is in \(safety.path)",
                                 hint: putBack)
        case "aborted":
            return SwiftFabError(.interrupted, host: backend.host,
                                 "interrupted before the restore committed: \(db) is unchanged (its transaction was rolled back)")
        default:
            let said = answer.map { lastLines($0.stderrText.isEmpty ? $0.stdoutText + " " + $0.summary : $0.stderrText) } ?? "no answer"
            return SwiftFabError(.interrupted, host: backend.host,
                                 "interrupted while restoring \(name), and the database cannot say yet whether the restore committed (\(said))",
                                 hint: "look at \(db) (its transaction \(transaction.id): SELECT txid_status(\(transaction.id))); " + putBack)
        }
    }

    /// Refuses a backup that is missing, damaged or unreadable, before
    /// anything touches the database. Returns how many tables it holds.
    public func check(on backend: any Backend, name: String) async throws -> Int {
        let listing = commands.list().assuming("\(Int(Date().timeIntervalSince1970))\n\(name)\t1048576\t\(Int(Date().timeIntervalSince1970))\tok\n",
                                               because: "the backup \(name) is there, with its checksum")
        let result = try await backend.run(listing)
        guard result.succeeded else {
            throw SwiftFabError(.command, host: backend.host, "cannot list \(config.backups): \(lastLines(result.stderrText))")
        }
        let entries = BackupCatalog.parse(result.stdoutText).entries
        guard entries.contains(where: { $0.name == name }) else {
            let near = BackupCatalog.nearNames(name, in: entries.map(\.name))
            throw SwiftFabError(.invalidInput, host: backend.host, "no backup named \(name) in \(config.backups)",
                                hint: near.isEmpty ? (entries.isEmpty ? "there are no backups yet: swiftfab backup" : "swiftfab backups lists them")
                                                   : "did you mean: " + near.joined(separator: ", "))
        }
        let verified = try await backend.run(commands.verify(name))
        switch verified.exitStatus {
        case 0: break
        case 4: throw SwiftFabError(.command, host: backend.host, "\(name) has no checksum file, so it cannot be proven whole; the database was not touched",
                                    hint: "if you trust the file, record its checksum: cd \(config.backups) && sha256sum \(name) > \(name).sha256")
        case 5: throw SwiftFabError(.command, host: backend.host, "\(name) does not match its sha256: the file is damaged or truncated; the database was not touched",
                                    hint: "restore another backup (swiftfab backups lists them with their checksum status)")
        default: throw SwiftFabError(.command, host: backend.host, "cannot verify \(name): \(lastLines(verified.stderrText.isEmpty ? verified.summary : verified.stderrText))")
        }
        let contents = try await backend.run(commands.contents(name))
        guard contents.succeeded else {
            throw SwiftFabError(.command, host: backend.host, "pg_restore cannot read \(name) (\(lastLines(contents.stderrText))): it is not a whole custom-format dump; the database was not touched",
                                hint: "restore another backup (swiftfab backups lists them)")
        }
        return contents.stdoutText.split(separator: "\n").filter { $0.contains(" TABLE DATA ") }.count
    }

    /// Removes what retention allows; returns the removed names and the damaged ones it left.
    public func prune(on backend: any Backend, keep: Int?, maxAgeDays: Int?) async throws -> (removed: [String], damaged: [String]) {
        let (now, entries) = try await list(on: backend)
        let doomed = BackupCatalog.toDelete(entries, keep: keep, maxAgeDays: maxAgeDays, now: now)
        if !doomed.isEmpty {
            let result = try await backend.run(commands.remove(doomed))
            guard result.succeeded else {
                throw SwiftFabError(.command, host: backend.host, "cannot remove old backups: \(lastLines(result.stderrText))")
            }
        }
        let stale = try await backend.run(commands.removeStalePartials()).stdoutText.split(separator: "\n").map { String($0.split(separator: "/").last ?? $0) }
        return (doomed + stale, entries.filter { !$0.isValid }.map(\.name))
    }

    /// The end of a tool's error output, passwords removed.
    func lastLines(_ text: String, count: Int = 3) -> String {
        Secret.redact(text, secrets).split(separator: "\n").suffix(count).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " / ")
    }

    /// What to do about a failed pg_dump, from what it said.
    func hint(for stderr: String) -> String? {
        let text = stderr.lowercased()
        let server = [config.host, config.port.map(String.init)].compactMap { $0 }.joined(separator: ":")
        if text.contains("no space left") {
            return "the disk holding \(config.backups) is full: free space there, remove old backups (swiftfab prune-backups), or point backups: at a bigger disk"
        }
        if text.contains("database \"") && text.contains("does not exist") {
            return "the server has no database named \(config.database): check database: in the Deployfile"
        }
        if text.contains("password authentication failed") || text.contains("no password supplied") {
            return "check the password" + (config.passwordSetting.map { " (setting \($0))" } ?? ": set passwordSetting: in the Deployfile")
        }
        if text.contains("connection refused") || text.contains("could not connect") || text.contains("is the server running") || text.contains("connection to server") {
            return "is PostgreSQL running and reachable from the database host at \(server.isEmpty ? "its local socket" : server)?"
        }
        if text.contains("permission denied") {
            return "the SSH user cannot write to \(config.backups) (or read the database): check its owner and mode"
        }
        if text.contains("already exists") { return "a backup was taken this same second: run it again" }
        if text.contains("command not found") || text.contains("not found") {
            return "pg_dump is not installed where it runs (runsIn: \(config.runsIn))"
        }
        return nil
    }
}

/// What a restore tells its caller as it goes: notes, and the commit as soon as it is known.
struct RestoreNotes: Sendable {
    let note: @Sendable (String) -> Void
    let committed: @Sendable (PostgresOperator.Restored) -> Void

    func callAsFunction(_ text: String) { note(text) }
}

/// The start of a command's standard output, collected as it streams (on the
/// transport's thread): what a command said before it was stopped.
final class FirstOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    static let limit = 4096

    func add(_ chunk: OutputChunk) {
        guard chunk.stream == .stdout else { return }
        lock.withLock { if bytes.count < Self.limit { bytes += chunk.bytes.prefix(Self.limit - bytes.count) } }
    }

    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
}
