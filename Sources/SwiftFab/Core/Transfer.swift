/// How a file transfer behaves.
public struct TransferOptions: Sendable {
    /// Force this mode on every file (e.g. 0o600); nil keeps the source's mode.
    public var mode: UInt32?
    /// Called as bytes move, on the transport's thread.
    public var onProgress: (@Sendable (TransferProgress) -> Void)?

    public init(mode: UInt32? = nil, onProgress: (@Sendable (TransferProgress) -> Void)? = nil) {
        self.mode = mode
        self.onProgress = onProgress
    }
}

public struct TransferProgress: Sendable {
    public var file: String
    public var bytesDone: Int64
    public var bytesTotal: Int64
    public var filesDone: Int
    public var filesTotal: Int
}

/// What a finished transfer moved.
public struct TransferSummary: Sendable, Equatable {
    public var files: Int
    public var bytes: Int64
    public var duration: Double
    public var destination: String
    /// Remote symlinks and special files (devices, fifos, sockets) a recursive
    /// download passed over instead of following or reading them.
    public var skipped: [String] = []
}
