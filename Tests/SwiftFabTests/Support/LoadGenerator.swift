import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Real HTTP traffic for deploy tests: `threads` loops of GET requests, a
/// new connection each, recording every response's time, status and body.
/// Bounded: it stops when told or after `limit` seconds.
final class LoadGenerator: @unchecked Sendable {
    struct Sample { let time: Double; let status: Int; let body: String }

    private let lock = NSLock()
    private var samples: [Sample] = []
    private var running = true
    private var finished = 0
    private let threads: Int

    /// `name`: the Host header (a site of a proxy that routes by name); the address by default.
    init(host: String, port: Int, path: String, name: String? = nil, threads: Int = 6, limit: Double = 120) {
        self.threads = threads
        let start = Date()
        for _ in 0..<threads {
            let thread = Thread { [self] in
                while isRunning && Date().timeIntervalSince(start) < limit {
                    let sample = Self.request(host: host, port: port, path: path, name: name)
                    lock.withLock { samples.append(sample) }
                }
                lock.withLock { finished += 1 }
            }
            thread.start()
        }
    }

    private var isRunning: Bool { lock.withLock { running } }

    /// Stops the loops and returns every sample, once each loop's request in flight has ended.
    func stop() async -> [Sample] {
        lock.withLock { running = false }
        while lock.withLock({ finished < threads }) { try? await Task.sleep(for: .milliseconds(10)) }
        return lock.withLock { samples }.sorted { $0.time < $1.time }
    }

    var count: Int { lock.withLock { samples.count } }

    /// Waits until `count` responses have come since `time` (traffic in that window), at most 30 s.
    func waitForSamples(_ count: Int, since time: Double = Date().timeIntervalSince1970) async throws {
        try await waitFor("\(count) responses under load") { lock.withLock { samples.filter { $0.time >= time }.count } >= count }
    }

    /// status 0: the connection failed.
    static func request(host: String, port: Int, path: String, name: String? = nil) -> Sample {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let now = Date().timeIntervalSince1970
        guard connected == 0 else { return Sample(time: now, status: 0, body: "connect: \(String(cString: strerror(errno)))") }
        let request = "GET \(path) HTTP/1.0\r\nHost: \(name ?? host)\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined().trimmingCharacters(in: .whitespacesAndNewlines)
        return Sample(time: now, status: status, body: status == 0 ? "no HTTP answer: \(text.prefix(80))" : body)
    }
}
