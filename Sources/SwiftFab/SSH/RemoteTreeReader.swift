/// What a download asks of the server. `SFTPClient` answers over SFTP; the
/// tests answer with in-memory trees, hostile ones included. Everything
/// that comes back (names, types, modes, sizes) is the server's word and is
/// checked by `TreeDownload` before it touches the local disk.
protocol RemoteTreeReader {
    /// The host's name, for error messages.
    var hostLabel: String { get }
    /// The attributes of `path`, following a symlink (the user named this
    /// path, so its link is theirs to follow); nil when it does not exist.
    func attributes(of path: String) throws -> RemoteAttributes?
    /// The entries of a directory, without its own "." and ".." entries;
    /// a symlink is reported as a symlink, not as what it points to.
    func entries(of directory: String) throws -> [RemoteEntry]
    /// Copies the whole remote file into `fd`; `progress` gets the bytes so far.
    func copyFile(_ path: String, into fd: Int32, progress: (Int64) -> Void) throws -> Int64
}

struct RemoteAttributes: Equatable, Sendable {
    enum Kind: Sendable { case file, directory, symlink, special }
    var kind: Kind
    /// Permission bits as the server sent them, setuid and all; masked before use.
    var permissions: UInt32
    var size: Int64
}

struct RemoteEntry: Equatable, Sendable {
    var name: String
    var attributes: RemoteAttributes
}
