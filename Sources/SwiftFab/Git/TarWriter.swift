import Foundation

/// Writes a POSIX tar stream (ustar, with PAX headers for long names),
/// enough for release archives: files, directories, symlinks.
struct TarWriter {
    private let handle: FileHandle
    private let mtime: Int
    private(set) var bytes: Int64 = 0

    init(handle: FileHandle, mtime: Int) {
        self.handle = handle
        self.mtime = mtime
    }

    mutating func addDirectory(_ path: String) throws {
        try addEntry(path: path.hasSuffix("/") ? path : path + "/", type: "5", mode: 0o755, size: 0)
    }

    mutating func addFile(_ path: String, mode: Int, contents: UnsafeRawBufferPointer) throws {
        try addEntry(path: path, type: "0", mode: mode, size: contents.count)
        try write(Data(contents))
        try pad(contents.count)
    }

    mutating func addSymlink(_ path: String, target: String) throws {
        try addEntry(path: path, type: "2", mode: 0o777, size: 0, link: target)
    }

    /// Two empty blocks end the archive.
    mutating func finish() throws {
        try write(Data(count: 1024))
    }

    private mutating func addEntry(path: String, type: Character, mode: Int, size: Int, link: String = "") throws {
        var name = path, prefix = ""
        var pax: [String: String] = [:]
        if name.utf8.count > 100 {
            // ustar can split at a slash: prefix (155) + name (100); otherwise a PAX header carries it.
            if let split = Self.split(path) { (prefix, name) = split } else { pax["path"] = path; name = "PaxPath" }
        }
        if link.utf8.count > 100 { pax["linkpath"] = link }
        if !pax.isEmpty {
            let records = pax.keys.sorted().map { Self.paxRecord($0, pax[$0]!) }.joined()
            let data = Data(records.utf8)
            try write(header(name: "PaxHeader", prefix: "", type: "x", mode: 0o644, size: data.count, link: ""))
            try write(data)
            try pad(data.count)
        }
        try write(header(name: name, prefix: prefix, type: type, mode: mode, size: size, link: pax["linkpath"] == nil ? link : ""))
    }

    static func split(_ path: String) -> (String, String)? {
        let bytes = Array(path.utf8)
        guard bytes.count <= 256 else { return nil }
        for index in stride(from: min(bytes.count - 1, 155), through: 1, by: -1) where bytes[index] == UInt8(ascii: "/") {
            if bytes.count - index - 1 <= 100 && bytes.count - index - 1 > 0 {
                return (String(decoding: bytes[..<index], as: UTF8.self), String(decoding: bytes[(index + 1)...], as: UTF8.self))
            }
        }
        return nil
    }

    /// "LEN key=value\n", where LEN counts the whole record, itself included.
    static func paxRecord(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length = String(length).count + body.utf8.count }
        return "\(length)\(body)"
    }

    private func header(name: String, prefix: String, type: Character, mode: Int, size: Int, link: String) -> Data {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, length: Int) {
            put(String(String(value, radix: 8).suffix(length - 1)).leftPadded(to: length - 1), at: offset, length: length - 1)
        }
        put(name, at: 0, length: 100)
        octal(mode, at: 100, length: 8)
        octal(0, at: 108, length: 8)
        octal(0, at: 116, length: 8)
        octal(size, at: 124, length: 12)
        octal(mtime, at: 136, length: 12)
        block[156] = UInt8(ascii: type.unicodeScalars.first!)
        put(link, at: 157, length: 100)
        put("ustar", at: 257, length: 6)
        put("00", at: 263, length: 2)
        put("root", at: 265, length: 32)
        put("root", at: 297, length: 32)
        put(prefix, at: 345, length: 155)
        // The checksum is computed with its own field as spaces.
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(String(sum, radix: 8)).leftPadded(to: 6), at: 148, length: 6)
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return Data(block)
    }

    private mutating func write(_ data: Data) throws {
        try handle.write(contentsOf: data)
        bytes += Int64(data.count)
    }

    private mutating func pad(_ size: Int) throws {
        let rest = size % 512
        if rest != 0 { try write(Data(count: 512 - rest)) }
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
