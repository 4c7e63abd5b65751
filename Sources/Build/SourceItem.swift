import Archive
import Foundation
import Support

/// A file, directory or symlink of a build context (or of a stage's file system), with what a
/// layer needs to know about it and an identity that changes whenever its content may have.
struct SourceItem: Sendable {
    enum Kind: Sendable, Equatable {
        case directory
        case file(size: Int64)
        case symlink(target: String)
    }

    var contextPath: String
    var kind: Kind
    var mode: UInt32
    var uid: Int
    var gid: Int
    var contents: EntryContents
    /// For the layer cache: device, inode, size, mtime and ctime for files on disk, or a hash
    /// of in-memory bytes.
    var identity: String
    /// Device and inode of a disk file with more than one link, to emit tar hard links.
    var hardlinkKey: String?

    var isSymlink: Bool {
        if case .symlink = kind { return true }
        return false
    }

    var isDirectory: Bool {
        if case .directory = kind { return true }
        return false
    }

    var name: String { contextPath.split(separator: "/").last.map(String.init) ?? "" }

    /// Describes the file at `diskPath` (not following a final symlink).
    static func fromDisk(_ diskPath: String, contextPath: String) throws(BuildError) -> SourceItem {
        var info = stat()
        guard lstat(diskPath, &info) == 0 else {
            throw BuildError("cannot read \(diskPath): \(errnoDescription())")
        }
        let identity = fileIdentity(info)
        let mode = UInt32(info.st_mode) & 0o7777
        var item = SourceItem(contextPath: contextPath, kind: .directory, mode: mode, uid: Int(info.st_uid), gid: Int(info.st_gid),
                              contents: .none, identity: identity, hardlinkKey: nil)
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            break
        case S_IFREG:
            guard access(diskPath, R_OK) == 0 else {
                throw BuildError("cannot read \(diskPath): \(errnoDescription())",
                                 hint: "make the file readable by the user running the build, or exclude it in .dockerignore")
            }
            item.kind = .file(size: Int64(info.st_size))
            item.contents = .checkedFile(path: diskPath, identity: FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
            if info.st_nlink > 1 { item.hardlinkKey = "\(info.st_dev):\(info.st_ino)" }
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(diskPath, &buffer, buffer.count - 1)
            guard length >= 0 else { throw BuildError("cannot read symlink \(diskPath): \(errnoDescription())") }
            item.kind = .symlink(target: String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        default:
            throw BuildError("\(diskPath) is a socket, FIFO or device file, which cannot go into an image layer",
                             hint: "remove it from the build context or exclude it in .dockerignore")
        }
        return item
    }
}
