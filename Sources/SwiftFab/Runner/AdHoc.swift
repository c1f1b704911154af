import Foundation

/// `swiftfab exec/put/get`: one operation on many hosts at once, each
/// host's output prefixed, a report per host at the end.
public struct AdHoc: Sendable {
    public var hosts: [String]
    public var config: SSHConfig
    public var options: ConnectionOptions
    public var parallel: Int

    public init(hosts: [String], config: SSHConfig, options: ConnectionOptions, parallel: Int = 50) {
        self.hosts = hosts
        self.config = config
        self.options = options
        self.parallel = parallel
    }

    /// Connects to each host, runs `body`, closes; errors become `.error` reports.
    public func onEachHost(_ body: @escaping @Sendable (SSHConnection) async throws -> HostReport) async -> [HostReport] {
        await Fanout.map(hosts, parallel: parallel) { [config, options] host in
            let start = monotonicNow()
            do {
                let connection = try await SSHConnection.connect(host, config: config, options: options)
                do {
                    var report = try await body(connection)
                    report.duration = monotonicNow() - start
                    await connection.close()
                    return report
                } catch {
                    await connection.close()
                    throw error
                }
            } catch let error as SwiftFabError {
                return HostReport(host: host, status: .error(error.on(host: host)), duration: monotonicNow() - start)
            } catch {
                return HostReport(host: host, status: .error(SwiftFabError(.connection, host: host, "\(error)")), duration: monotonicNow() - start)
            }
        }
    }

    public func exec(_ command: Command, _ execOptions: ExecOptions, printer: HostPrinter) async -> [HostReport] {
        await onEachHost { connection in
            var options = execOptions
            options.onOutput = printer.sink(for: connection.host)
            let result = try await connection.run(command, options)
            printer.flush(connection.host)
            return HostReport(host: connection.host, status: result.succeeded ? .ok : .failed(result.summary),
                              duration: result.duration, result: result)
        }
    }

    /// With several hosts each one's copy goes to `local/<host>/` so they don't overwrite each other.
    public func download(_ remote: String, to local: String, _ transfer: TransferOptions, printer: HostPrinter) async -> [HostReport] {
        let perHost = hosts.count > 1
        return await onEachHost { connection in
            var destination = local
            if perHost {
                destination = local.trimmingSuffix("/") + "/" + connection.host + "/"
                try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
            }
            let summary = try await connection.download(remote, to: destination, transfer)
            printer.note(connection.host, Self.describe(summary, verb: "downloaded"))
            return HostReport(host: connection.host, status: .ok, duration: summary.duration)
        }
    }

    public static func describe(_ summary: TransferSummary, verb: String) -> String {
        let rate = summary.duration > 0 ? Double(summary.bytes) / summary.duration / 1_000_000 : 0
        let files = summary.files == 1 ? "1 file" : "\(summary.files) files"
        return "\(verb) \(files), \(Format.bytes(summary.bytes)) to \(summary.destination) in \(Format.seconds(summary.duration))"
            + (summary.bytes > 1_000_000 ? String(format: " (%.0f MB/s)", rate) : "")
            + skippedNote(summary.skipped)
    }

    /// "; skipped 2 symlinks or special files (not followed): /srv/a, /srv/b".
    static func skippedNote(_ skipped: [String]) -> String {
        guard !skipped.isEmpty else { return "" }
        let shown = skipped.prefix(5).map { RemoteName.escaped($0) }.joined(separator: ", ")
        let more = skipped.count > 5 ? " and \(skipped.count - 5) more" : ""
        let what = skipped.count == 1 ? "symlink or special file" : "symlinks or special files"
        return "; skipped \(skipped.count) \(what) (not followed): \(shown)\(more)"
    }
}
