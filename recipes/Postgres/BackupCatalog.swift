import Foundation
import SwiftFab

/// One backup file as the database host lists it.
public struct BackupEntry: Sendable, Equatable {
    public enum Checksum: String, Sendable { case ok, missing, mismatch }
    public var name: String
    public var bytes: Int64
    /// When it was taken: from its name, else the file's modification time.
    public var taken: Date
    public var checksum: Checksum
    /// Taken by `restore` just before it replaced the database.
    public var isSafety: Bool { name.hasSuffix(BackupCatalog.safetySuffix) }
    public var isValid: Bool { checksum == .ok }

    public init(name: String, bytes: Int64, taken: Date, checksum: Checksum) {
        self.name = name
        self.bytes = bytes
        self.taken = taken
        self.checksum = checksum
    }
}

/// Backup names, the host's listing, and which backups may go: pure
/// functions, so the rules are tested without a server.
public enum BackupCatalog {
    public static let suffix = ".dump"
    public static let safetySuffix = ".safety.dump"

    /// `<db>-<UTC yyyyMMddTHHmmssZ>.dump` (`.safety.dump` for safety backups).
    /// (Characters other than letters, digits, `.`, `_` and `-` in the database's name become `_`.)
    public static func name(database: String, at date: Date, safety: Bool = false) -> String {
        let safe = String(database.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        return "\(safe)-\(UTCStamp.string(from: date))" + (safety ? safetySuffix : suffix)
    }

    /// The time in a backup's name, if it has one.
    public static func stamp(of name: String) -> Date? {
        guard name.hasSuffix(suffix) else { return nil }
        let base = name.hasSuffix(safetySuffix) ? name.dropLast(safetySuffix.count) : name.dropLast(suffix.count)
        guard let dash = base.lastIndex(of: "-") else { return nil }
        return UTCStamp.date(from: String(base[base.index(after: dash)...]))
    }

    /// When a backup was taken: the time in its name, else its file's modification time.
    public static func taken(_ name: String, modified: Date) -> Date {
        stamp(of: name) ?? modified
    }

    /// Parses `PostgresCommands.list()`'s output: the server's clock, then
    /// `name<TAB>bytes<TAB>mtime<TAB>checksum` lines. Newest first.
    public static func parse(_ output: String) -> (now: Date, entries: [BackupEntry]) {
        var lines = output.split(separator: "\n").map(String.init)
        let now = lines.isEmpty ? Date() : Date(timeIntervalSince1970: Double(lines.removeFirst()) ?? Date().timeIntervalSince1970)
        let entries = lines.compactMap { line -> BackupEntry? in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, let bytes = Int64(fields[1]), let mtime = Double(fields[2]) else { return nil }
            return BackupEntry(name: fields[0], bytes: bytes, taken: taken(fields[0], modified: Date(timeIntervalSince1970: mtime)),
                               checksum: BackupEntry.Checksum(rawValue: fields[3]) ?? .mismatch)
        }
        return (now, newestFirst(entries))
    }

    public static func newestFirst(_ entries: [BackupEntry]) -> [BackupEntry] {
        entries.sorted { $0.taken != $1.taken ? $0.taken > $1.taken : $0.name > $1.name }
    }

    /// Which backups retention removes. Never: the newest valid backup, a
    /// safety backup younger than a day, or a backup whose checksum fails
    /// (it is reported instead, for a person to look at). `keep` counts
    /// valid backups, safety backups on their own; `maxAgeDays` removes older ones.
    public static func toDelete(_ entries: [BackupEntry], keep: Int?, maxAgeDays: Int?, now: Date) -> [String] {
        guard keep != nil || maxAgeDays != nil else { return [] }
        let sorted = newestFirst(entries)
        var protected = Set<String>()
        if let newest = sorted.first(where: { $0.isValid }) { protected.insert(newest.name) }
        if let newestRegular = sorted.first(where: { $0.isValid && !$0.isSafety }) { protected.insert(newestRegular.name) }
        for entry in sorted where entry.isSafety && now.timeIntervalSince(entry.taken) < 86_400 { protected.insert(entry.name) }
        var doomed = Set<String>()
        if let keep {
            for kind in [true, false] {
                let valid = sorted.filter { $0.isValid && $0.isSafety == kind }
                for entry in valid.dropFirst(max(keep, 0)) { doomed.insert(entry.name) }
            }
        }
        if let maxAgeDays {
            for entry in sorted where entry.isValid && now.timeIntervalSince(entry.taken) > Double(maxAgeDays) * 86_400 {
                doomed.insert(entry.name)
            }
        }
        return sorted.map(\.name).filter { doomed.contains($0) && !protected.contains($0) }
    }

    /// Names close to one that does not exist: same prefix, or a few edits away.
    public static func nearNames(_ wanted: String, in names: [String], limit: Int = 5) -> [String] {
        let stem = wanted.hasSuffix(suffix) ? String(wanted.dropLast(suffix.count)) : wanted
        let scored = names.map { name -> (String, Int) in
            if !stem.isEmpty && name.hasPrefix(stem) { return (name, 0) }
            return (name, EditDistance.between(wanted, name))
        }
        let threshold = max(3, wanted.count / 3)
        return scored.filter { $0.1 <= threshold }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 > $1.0 }.prefix(limit).map(\.0)
    }
}

extension BackupCatalog {
    /// What a dry run assumes `PostgresCommands.list()` answers: the clock,
    /// then backups of today, 10 days and 40 days ago, all whole.
    static func exampleListing(database: String, now: Date = Date()) -> String {
        let clock = Int(now.timeIntervalSince1970)
        let lines = [0, 10, 40].map { days -> String in
            let taken = now.addingTimeInterval(-Double(days) * 86_400)
            return "\(name(database: database, at: taken))\t1048576\t\(Int(taken.timeIntervalSince1970))\tok"
        }
        return ([String(clock)] + lines).joined(separator: "\n") + "\n"
    }
}
