/// One entry of a tar stream, with the metadata that ends up in the image.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case directory
        case file(size: Int64)
        case symlink(target: String)
        case hardlink(target: String)
        /// A device, FIFO or socket: base images have them (/dev/console), so they can be read,
        /// but this tool never writes them.
        case special
    }

    /// Relative path without a leading "/", e.g. `opt/spark/jars`.
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky (07777).
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    /// Seconds since the epoch.
    public var mtime: Int64

    public init(path: String, kind: Kind, mode: UInt32, uid: Int = 0, gid: Int = 0, mtime: Int64 = 0) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
    }

    public var size: Int64 {
        if case .file(let size) = kind { return size }
        return 0
    }
}

/// Where a regular file's bytes come from.
public enum EntryContents: Sendable {
    case none
    case file(path: String)
    case bytes([UInt8])
}
