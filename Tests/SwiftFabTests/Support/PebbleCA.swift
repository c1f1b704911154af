import Foundation
@testable import SwiftFab

/// Let's Encrypt's test CA (Debian's `pebble`) and the DNS it resolves names
/// with (`pebble-challtestsrv`), on loopback, for the HTTPS tests.
///
/// Both are started over ssh in a sandbox host, detached with `setsid`, with
/// their state in `/tmp/swiftfab-pebble/<port>` (shared with the machine):
/// a CA left by a crashed run is stopped first. Every name resolves to
/// `address` (the test host's) unless `point(_:at:)` says otherwise; pebble
/// validates HTTP-01 on `httpPort` of that address.
struct PebbleCA {
    let port: Int
    let directoryPath: String

    /// The ACME directory certbot asks (`--server`).
    var directory: URL { URL(string: "https://127.0.0.1:\(port)/dir")! }
    /// The same directory as a fresh host reaches it (the machine's 127.0.0.1 is its 10.0.2.2).
    var directoryFromAFreshHost: URL { URL(string: "https://10.0.2.2:\(port)/dir")! }
    /// pebble's own TLS certificate, which certbot must trust (`REQUESTS_CA_BUNDLE`).
    var listenerCertificate: String { directoryPath + "/listener.crt" }
    /// The root the certificates pebble issues chain to (fetched from `/roots/0` by `start`).
    var root: String { directoryPath + "/root.pem" }
    var managementPort: Int { port + 1 }
    var dnsPort: Int { port + 2 }
    var dnsManagementPort: Int { port + 3 }

    static func start(on connection: SSHConnection, port: Int, address: String, httpPort: Int) async throws -> PebbleCA {
        let ca = PebbleCA(port: port, directoryPath: "/tmp/swiftfab-pebble/\(port)")
        let dir = Shell.quote(ca.directoryPath)
        let config = """
            {"pebble": {"listenAddress": "127.0.0.1:\(port)", "managementListenAddress": "127.0.0.1:\(ca.managementPort)",
             "certificate": "\(ca.listenerCertificate)", "privateKey": "\(ca.directoryPath)/listener.key",
             "httpPort": \(httpPort), "tlsPort": \(httpPort + 1), "ocspResponderURL": "", "externalAccountBindingRequired": false}}
            """
        let start = """
            command -v pebble >/dev/null || { echo 'pebble is missing: run scripts/setup-sandbox' >&2; exit 1; }
            mkdir -p \(dir) && cd \(dir) || exit 1
            \(DockerEngine.aliveFunction)
            for old in pebble.pid dns.pid; do
              if [ -s $old ] && alive "$(cat $old)"; then pid=$(cat $old); kill "$pid"; while alive "$pid"; do sleep 0.1; done; fi
            done
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout listener.key -out listener.crt -days 2 \
              -subj /CN=pebble -addext 'subjectAltName=IP:127.0.0.1,IP:10.0.2.2,DNS:localhost' 2>/dev/null || exit 1
            printf '%s\\n' \(Shell.quote(config)) > pebble.json
            setsid pebble-challtestsrv -dns01 127.0.0.1:\(ca.dnsPort) -management 127.0.0.1:\(ca.dnsManagementPort) \
              -http01 '' -https01 '' -tlsalpn01 '' -defaultIPv4 \(address) -defaultIPv6 '' </dev/null >dns.log 2>&1 & echo $! > dns.pid
            PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
              setsid pebble -config pebble.json -dnsserver 127.0.0.1:\(ca.dnsPort) </dev/null >pebble.log 2>&1 & echo $! > pebble.pid
            """
        let started = try await connection.run(.raw(start), ExecOptions(timeout: 60))
        guard started.succeeded else { throw SwiftFabError(.local, "pebble did not start: \(started.stderrText)") }
        try await waitFor("pebble to serve its root", seconds: 30) {
            try await connection.run(.raw("curl -fsS --cacert \(dir)/listener.crt https://127.0.0.1:\(ca.managementPort)/roots/0 -o \(dir)/root.pem")).succeeded
        }
        return ca
    }

    /// Makes `name` resolve to `address` (a host where no one answers: the CA cannot validate it).
    func point(_ name: String, at address: String, on connection: SSHConnection) async throws {
        let body = #"{"host":"\#(name).","addresses":["\#(address)"]}"#
        let set = try await connection.run(.raw("curl -fsS -d \(Shell.quote(body)) http://127.0.0.1:\(dnsManagementPort)/add-a"))
        guard set.succeeded else { throw SwiftFabError(.local, "pebble-challtestsrv add-a: \(set.stderrText)") }
    }

    /// `name` resolves to the default address again.
    func unpoint(_ name: String, on connection: SSHConnection) async throws {
        let body = #"{"host":"\#(name)."}"#
        _ = try await connection.run(.raw("curl -fsS -d \(Shell.quote(body)) http://127.0.0.1:\(dnsManagementPort)/clear-a"))
    }

    /// Stops both and waits until they are gone.
    func stop(on connection: SSHConnection) async throws {
        let dir = Shell.quote(directoryPath)
        _ = try await connection.run(.raw("""
            \(DockerEngine.aliveFunction)
            for file in pebble.pid dns.pid; do pid=$(cat \(dir)/$file 2>/dev/null) || continue; kill "$pid" 2>/dev/null; while alive "$pid"; do sleep 0.1; done; done
            """), ExecOptions(timeout: 30))
    }
}

/// wrk on a sandbox host: keep-alive HTTP(S) load that never retries, so
/// every request a server drops counts (a read or connect error). Detached
/// with `setsid`, bounded by `limit` seconds; `stop` ends it with SIGINT,
/// after which wrk prints its totals.
struct KeepAliveLoad {
    let file: String
    let pid: String

    struct Totals: CustomStringConvertible {
        var requests = 0, connectErrors = 0, readErrors = 0, writeErrors = 0, timeouts = 0, non2xx = 0
        var failed: Int { connectErrors + readErrors + writeErrors + timeouts + non2xx }
        var description: String {
            "\(requests) requests, \(failed) failed (connect \(connectErrors), read \(readErrors), write \(writeErrors), timeout \(timeouts), non-2xx \(non2xx))"
        }
    }

    /// `newConnections`: each request on a new connection (a full TLS handshake each), else keep-alive.
    static func start(on connection: SSHConnection, url: String, host: String, connections: Int = 16, newConnections: Bool = false,
                      limit: Int = 120) async throws -> KeepAliveLoad {
        let file = "/tmp/swiftfab-wrk-\(UUID().uuidString.prefix(8)).out"
        let close = newConnections ? " -H 'Connection: close'" : ""
        let started = try await connection.run(.raw("""
            command -v wrk >/dev/null || { echo 'wrk is missing: run scripts/setup-sandbox' >&2; exit 1; }
            setsid wrk -t2 -c\(connections) -d\(limit)s -H \(Shell.quote("Host: " + host))\(close) \(Shell.quote(url)) </dev/null >\(file) 2>&1 & echo $!
            """))
        guard started.succeeded else { throw SwiftFabError(.local, "wrk did not start: \(started.stderrText)") }
        return KeepAliveLoad(file: file, pid: started.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Stops wrk (SIGINT: it prints its totals) and reads them. Again: nothing more.
    func stop(on connection: SSHConnection) async throws -> Totals {
        let out = try await connection.run(.raw("""
            \(DockerEngine.aliveFunction)
            [ -f \(file) ] || exit 0; kill -INT \(pid) 2>/dev/null; while alive \(pid); do sleep 0.1; done; cat \(file); rm -f \(file)
            """), ExecOptions(timeout: 30)).stdoutText
        var totals = Totals()
        for line in out.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            if line.contains("requests in"), let count = numbers.first { totals.requests = count }
            if line.hasPrefix("Socket errors:"), numbers.count == 4 {
                (totals.connectErrors, totals.readErrors, totals.writeErrors, totals.timeouts) = (numbers[0], numbers[1], numbers[2], numbers[3])
            }
            if line.hasPrefix("Non-2xx"), let count = numbers.last { totals.non2xx = count }
        }
        guard totals.requests > 0 else { throw SwiftFabError(.local, "wrk reported no requests:\n\(out)") }
        return totals
    }
}
