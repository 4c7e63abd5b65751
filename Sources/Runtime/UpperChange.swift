/// One entry of an overlay's upper directory: what a RUN added, changed or deleted.
public struct UpperChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `opaque`: the directory replaces the lower one whole (it was deleted and made again).
        case directory(opaque: Bool)
        case file(size: Int64)
        case symlink(target: String)
        /// Another path of this change list with the same inode.
        case hardlink(target: String)
        /// The lower entry of this path is deleted (overlayfs's 0/0 character device).
        case whiteout
        /// A device, FIFO or socket the RUN made; the layer writer decides what to do with it.
        case special
    }

    /// Relative, without a leading `/`, e.g. `opt/spark/conf`.
    public var path: String
    public var kind: Kind
    /// Permission bits with setuid, setgid and sticky (07777).
    public var mode: UInt32
    /// Ids as the RUN saw them (mapped back through the user namespace when rootless).
    public var uid: Int
    public var gid: Int
    public var mtime: Int64

    public init(path: String, kind: Kind, mode: UInt32, uid: Int = 0, gid: Int = 0, mtime: Int64 = 0) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
    }
}
