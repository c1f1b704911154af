import Foundation

/// A one-line transfer progress bar on stderr, redrawn at most 10 times a
/// second; shown only on a terminal.
public final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private var done: [String: Int64] = [:]
    private var totals: [String: Int64] = [:]
    private var lastDraw = 0.0
    private let start = monotonicNow()
    private let label: String

    public init(label: String) { self.label = label }

    public func update(host: String, _ progress: TransferProgress) {
        lock.lock()
        defer { lock.unlock() }
        done[host] = progress.bytesDone
        totals[host] = progress.bytesTotal
        let now = monotonicNow()
        guard now - lastDraw >= 0.1 else { return }
        lastDraw = now
        draw(now)
    }

    private func draw(_ now: Double) {
        let sent = done.values.reduce(0, +)
        let total = max(totals.values.reduce(0, +), 1)
        let fraction = min(1, Double(sent) / Double(total))
        let cells = 30
        let filled = Int(fraction * Double(cells))
        let rate = Double(sent) / max(now - start, 0.001) / 1_000_000
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: cells - filled)
        let line = String(format: "\r%@ [%@] %3.0f%% %@ / %@ %.0f MB/s ", label, bar, fraction * 100,
                          Format.bytes(sent), Format.bytes(total), rate)
        StandardStreams.write(line, to: .stderr)
    }

    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        StandardStreams.write("\r\u{1B}[K", to: .stderr)
    }
}
