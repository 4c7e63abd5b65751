import Foundation
import Glibc

/// An open directory. Everything below it is reached by name relative to this descriptor and
/// never through a symlink, so a tree the RUN wrote cannot send us outside it.
final class DirectoryHandle {
    let fd: Int32

    /// Opens `path` itself (ours, not the RUN's), refusing a symlink in its last component.
    init(path: String) throws(RuntimeError) {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError.errno("cannot open directory \(path)") }
    }

    /// The child directory `name`; `nil` when it is not a directory or is a symlink.
    init?(child name: String, of parent: DirectoryHandle) {
        fd = openat(parent.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
    }

    deinit { close(fd) }

    /// Entry names, sorted, without `.` and `..`.
    func names(path: String) throws(RuntimeError) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw RuntimeError.errno("cannot list \(path)")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// `lstat` of a child.
    func status(_ name: String) -> stat? {
        var info = stat()
        return fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? info : nil
    }

    func linkTarget(_ name: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(fd, name, &buffer, buffer.count - 1)
        return count >= 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    /// Whether overlayfs marked this directory opaque (its lower contents hidden): `trusted.`
    /// as root, `user.` in a user namespace (`userxattr`).
    var isOpaque: Bool {
        ["trusted.overlay.opaque", "user.overlay.opaque"].contains { name in
            var value: UInt8 = 0
            return Self.fgetxattr(fd, name, &value, 1) == 1 && value == UInt8(ascii: "y")
        }
    }

    /// Glibc's fgetxattr(2): <sys/xattr.h> is not in Swift's Glibc module, and a C shim for one
    /// call is more than this module should carry, so it is looked up once by name.
    private static let fgetxattr: @convention(c) (Int32, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fgetxattr") else {
            return { _, _, _, _ in -1 }
        }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int).self)
    }()

    /// Removes a child file or empty directory; false when it is neither.
    @discardableResult
    func remove(_ name: String, directory: Bool) -> Bool {
        unlinkat(fd, name, directory ? AT_REMOVEDIR : 0) == 0
    }
}
