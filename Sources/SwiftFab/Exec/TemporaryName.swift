import Foundation

/// Where a copy is written before it is renamed onto its target: beside it
/// (the same directory, so the rename is atomic), hidden, and fresh each time,
/// so a reader never sees half a file and a failed copy leaves the old one whole.
enum TemporaryName {
    /// `.<name>.swiftfab-<random>`, for a file called `name`.
    static func beside(_ name: String) -> String {
        let tag = String(UInt64.random(in: 1..<UInt64.max), radix: 36)
        // Cut long names so the temporary one stays within the 255 bytes a file name may have.
        let stem = name.utf8.count <= 200 ? name : String(decoding: name.utf8.prefix(200), as: UTF8.self)
        return "." + stem + ".swiftfab-" + tag
    }

    /// The same name, as a path in the directory of `path`.
    static func beside(path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().path + "/" + beside(url.lastPathComponent)
    }
}
