import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TCP connection set-up, tuned for many small SSH round trips.
enum Socket {
    /// SOCK_STREAM as socket(2) takes it: Glibc imports it as an enum case.
    #if canImport(Glibc)
    static let stream = Int32(SOCK_STREAM.rawValue)
    #else
    static let stream = SOCK_STREAM
    #endif

    /// Connects to `host:port` within `timeout` seconds; the socket comes back
    /// non-blocking with TCP_NODELAY set (without it Nagle and delayed ACK add
    /// ~45 ms to every command) and, unless `keepAlive` is false (ssh config
    /// `TCPKeepAlive no`), SO_KEEPALIVE.
    static func connect(host: String, port: Int, timeout: Double, label: String, keepAlive: Bool = true) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = stream
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw SwiftFabError(.connection, host: label, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))",
                                hint: "check the host name, or set HostName for it in your ssh config")
        }
        defer { freeaddrinfo(list) }
        let deadline = monotonicNow() + timeout
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            Descriptor.setNonBlocking(fd)
            Descriptor.setCloseOnExec(fd)
            // The system's connect(2), not this enum's.
            #if canImport(Glibc)
            let started = Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            #else
            let started = Darwin.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            #endif
            if started == 0 || errno == EINPROGRESS {
                let remaining = deadline - monotonicNow()
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = remaining > 0 ? poll(&pfd, 1, Int32(remaining * 1000)) : 0
                if ready == 0 {
                    close(fd)
                    throw SwiftFabError(.connection, host: label,
                                        "cannot connect to \(host) port \(port): timed out after \(Format.seconds(timeout))",
                                        hint: "check that the host is up and that port \(port) is open (ConnectTimeout sets the limit)")
                }
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                if soError == 0 {
                    setNoDelay(fd)
                    if keepAlive { setKeepAlive(fd) }
                    return fd
                }
                lastError = String(cString: strerror(soError))
            } else {
                lastError = String(cString: strerror(errno))
            }
            close(fd)
        }
        throw SwiftFabError(.connection, host: label, "cannot connect to \(host) port \(port): \(lastError.lowercased())",
                            hint: "check that sshd runs there and listens on port \(port)")
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The kernel probes an idle connection and ends it once the peer is gone
    /// (after the system's keepalive time, two hours by default): the last
    /// resort when ServerAliveInterval is 0. OpenSSH does the same.
    static func setKeepAlive(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Re-arms quick ACKs: Linux falls back to delayed ACKs after a while, and a
    /// delayed ACK stalls the next request/response round trip. (Linux only:
    /// other systems have no such socket option, their delayed ACK is system-wide.)
    static func quickAck(_ fd: Int32) {
        #if os(Linux)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), Int32(TCP_QUICKACK), &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }
}
