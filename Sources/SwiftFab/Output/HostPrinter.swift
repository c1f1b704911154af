import Foundation

/// Prints output from many hosts at once, one whole line at a time, each
/// prefixed with a short, coloured, aligned host label.
public final class HostPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private let width: Int
    private var splitters: [String: [StdStream: LineSplitter]] = [:]
    private var colors: [String: Style.Color] = [:]
    private let palette: [Style.Color] = [.cyan, .magenta, .yellow, .blue, .green, .brightCyan, .brightMagenta, .brightBlue]
    private let style: Style
    private let write: @Sendable (StdStream, String) -> Void

    public init(hosts: [String], style: Style, write: @escaping @Sendable (StdStream, String) -> Void = HostPrinter.standardWrite) {
        width = hosts.map(\.count).max() ?? 0
        self.style = style
        for (index, host) in hosts.enumerated() { colors[host] = palette[index % palette.count] }
        self.write = write
    }

    public static let standardWrite: @Sendable (StdStream, String) -> Void = { stream, text in
        StandardStreams.write(text, to: stream)
    }

    public func label(_ host: String) -> String {
        let padded = host.padding(toLength: width, withPad: " ", startingAt: 0)
        return colors[host].map { style.paint(padded, $0) } ?? padded
    }

    /// A handler for ExecOptions.onOutput that prints `host`'s lines.
    public func sink(for host: String) -> @Sendable (OutputChunk) -> Void {
        { [self] chunk in
            lock.lock()
            defer { lock.unlock() }
            // In place: a copy would duplicate the held partial line on every chunk.
            let lines = splitters[host, default: [:]][chunk.stream, default: LineSplitter()].feed(chunk.bytes)
            emit(host, chunk.stream, lines)
        }
    }

    /// Prints whatever partial lines `host` left (output without a final newline).
    public func flush(_ host: String) {
        lock.lock()
        defer { lock.unlock() }
        for stream in [StdStream.stdout, .stderr] {
            if var splitter = splitters[host]?[stream], let rest = splitter.flush() {
                splitters[host]?[stream] = splitter
                emit(host, stream, [rest])
            }
        }
    }

    /// One whole line of a host's output.
    public func line(_ host: String, _ stream: StdStream, _ text: String) {
        lock.lock()
        defer { lock.unlock() }
        emit(host, stream, [text])
    }

    /// A line of swiftfab's own about `host`, on stderr (a result: on stdout).
    public func note(_ host: String, _ text: String, to stream: StdStream = .stderr) {
        lock.lock()
        defer { lock.unlock() }
        emit(host, stream, text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    private func emit(_ host: String, _ stream: StdStream, _ lines: [String]) {
        guard !lines.isEmpty else { return }
        let prefix = label(host) + " | "
        write(stream, lines.map { prefix + $0 + "\n" }.joined())
    }
}
