// swiftfab-bench: in-process measurements of the SwiftFab library, driven by
// bench/run. Each subcommand prints one JSON object on stdout (times in ms)
// and exits non-zero if any command or transfer failed.
//
//   swiftfab-bench latency CONFIG HOST COUNT [WARMUP]
//       connect once, then COUNT x `true` sequentially on that connection
//   swiftfab-bench connect CONFIG HOST COUNT [WARMUP]
//       COUNT x (connect + host key check + auth + run `true` + close)
//   swiftfab-bench upload CONFIG HOST LOCAL REMOTE COUNT
//       COUNT x SFTP upload of LOCAL over one already open connection
import Foundation
import SwiftFab

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

func emit(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

func stats(_ name: String, _ samplesMs: [Double]) -> [String: Any] {
    [
        "\(name)_median_ms": median(samplesMs),
        "\(name)_min_ms": samplesMs.min() ?? .nan,
        "\(name)_max_ms": samplesMs.max() ?? .nan,
        "\(name)_mean_ms": samplesMs.reduce(0, +) / Double(max(samplesMs.count, 1)),
    ]
}

func options(_ configFile: String) -> ConnectionOptions {
    ConnectionOptions(configFile: configFile, interactive: false)
}

func runTrue(_ conn: SSHConnection) async throws {
    let result = try await conn.run(Command("true"))
    guard result.succeeded else {
        throw BenchFailure(description: "`true` failed on \(conn.host): \(result.summary)")
    }
}

/// Per-command latency over one open connection.
func latency(config configFile: String, host: String, count: Int, warmup: Int) async throws {
    let opts = options(configFile)
    let config = try opts.loadConfig()
    let conn = try await SSHConnection.connect(host, config: config, options: opts)
    for _ in 0..<warmup { try await runTrue(conn) }
    var samples: [Double] = []
    samples.reserveCapacity(count)
    let start = monotonicNow()
    for _ in 0..<count {
        let t0 = monotonicNow()
        try await runTrue(conn)
        samples.append((monotonicNow() - t0) * 1000)
    }
    let total = (monotonicNow() - start) * 1000
    await conn.close()
    var out = stats("cmd", samples)
    out["mode"] = "latency"
    out["count"] = count
    out["total_ms"] = total
    out["per_command_ms"] = total / Double(count)
    emit(out)
}

/// Connect + host key check + auth + first command (+ close), each time anew.
func connect(config configFile: String, host: String, count: Int, warmup: Int) async throws {
    let opts = options(configFile)
    let config = try opts.loadConfig()
    var toFirst: [Double] = []
    var withClose: [Double] = []
    for i in 0..<(warmup + count) {
        let t0 = monotonicNow()
        let conn = try await SSHConnection.connect(host, config: config, options: opts)
        try await runTrue(conn)
        let t1 = monotonicNow()
        await conn.close()
        let t2 = monotonicNow()
        if i >= warmup {
            toFirst.append((t1 - t0) * 1000)
            withClose.append((t2 - t0) * 1000)
        }
    }
    var out = stats("first_result", toFirst).merging(stats("with_close", withClose)) { a, _ in a }
    out["mode"] = "connect"
    out["count"] = count
    emit(out)
}

/// SFTP upload throughput over one open connection (no connect cost).
func upload(config configFile: String, host: String, local: String, remote: String, count: Int) async throws {
    let opts = options(configFile)
    let config = try opts.loadConfig()
    let conn = try await SSHConnection.connect(host, config: config, options: opts)
    let size = try FileManager.default.attributesOfItem(atPath: local)[.size] as? Int64 ?? 0
    var samples: [Double] = []
    for _ in 0..<count {
        let t0 = monotonicNow()
        let summary = try await conn.upload(local, to: remote, TransferOptions())
        samples.append((monotonicNow() - t0) * 1000)
        guard summary.bytes == size else {
            throw BenchFailure(description: "uploaded \(summary.bytes) bytes, expected \(size)")
        }
        let rm = try await conn.run(Command("rm", "-f", remote))
        guard rm.succeeded else { throw BenchFailure(description: "rm failed: \(rm.summary)") }
    }
    await conn.close()
    var out = stats("upload", samples)
    out["mode"] = "upload"
    out["bytes"] = size
    out["count"] = count
    out["median_mb_per_s"] = Double(size) / 1e6 / (median(samples) / 1000)
    emit(out)
}

func usage() -> Never {
    FileHandle.standardError.write(Data("""
        usage: swiftfab-bench latency CONFIG HOST COUNT [WARMUP]
               swiftfab-bench connect CONFIG HOST COUNT [WARMUP]
               swiftfab-bench upload CONFIG HOST LOCAL REMOTE COUNT

        """.utf8))
    exit(64)
}

func int(_ args: [String], _ index: Int, default value: Int? = nil) -> Int {
    if index < args.count, let n = Int(args[index]), n >= 0 { return n }
    if index >= args.count, let value { return value }
    usage()
}

func main() async -> Int32 {
    let args = CommandLine.arguments
    guard args.count >= 2 else { usage() }
    do {
        switch args[1] {
        case "latency" where args.count >= 5:
            try await latency(config: args[2], host: args[3], count: int(args, 4), warmup: int(args, 5, default: 5))
        case "connect" where args.count >= 5:
            try await connect(config: args[2], host: args[3], count: int(args, 4), warmup: int(args, 5, default: 2))
        case "upload" where args.count >= 7:
            try await upload(config: args[2], host: args[3], local: args[4], remote: args[5], count: int(args, 6))
        default:
            usage()
        }
        return 0
    } catch {
        FileHandle.standardError.write(Data("swiftfab-bench: error: \(error)\n".utf8))
        return 1
    }
}

exit(await main())
