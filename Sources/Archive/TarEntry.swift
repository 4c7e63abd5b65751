import Foundation
import Support

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
    /// A file of a build context: opened without following a final symlink, and only if it is
    /// still the file (device, inode) that was planned, so a swap in between is caught.
    case checkedFile(path: String, identity: FileIdentity)
    case bytes([UInt8])
}

/// Which file a path named when it was looked at.
public struct FileIdentity: Sendable, Equatable, Hashable {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// Opens `path` for reading if it is still this file and not a symlink.
    public func open(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError(path: path, "cannot read: \(errnoDescription())") }
        var info = stat()
        guard fstat(fd, &info) == 0, UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode else {
            close(fd)
            throw ArchiveError(path: path, "the file changed after the build planned it (replaced, or swapped for a symlink)",
                               hint: "nothing may write to the build context while a build reads it; run the build again")
        }
        return fd
    }
}
