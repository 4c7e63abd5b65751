import Foundation

/// A directory held open, below which every path is reached one component at a time with
/// `O_NOFOLLOW`: a symlink in any component is an error, never a detour, whatever it points to.
/// Owns its descriptors. Not thread-safe: one unpack at a time.
final class BeneathDirectory {
    enum Failure: Error {
        /// `path` (relative) is a symlink where a directory must be.
        case symlink(path: String)
        case notDirectory(path: String)
        case system(String, path: String, errno: Int32)
    }

    let path: String
    private let root: Int32
    /// The open directories of the last parent chain resolved. Tar entries come in walk order,
    /// so the next entry's parent usually shares most of it: no re-walk from the root. Every
    /// removal is of a child of the directory just resolved, so no descriptor here goes stale.
    private var chain: [(name: String, fd: Int32)] = []

    init(path: String) throws(Failure) {
        root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw .system("cannot open", path: path, errno: errno) }
        self.path = path
    }

    deinit {
        closeChain(from: 0)
        close(root)
    }

    /// The directory at `components`, creating missing ones (mode 0700 until the unpacker sets
    /// the archive's) when `creating`; nil when it does not exist and not `creating`.
    /// The descriptor stays owned by this object and is valid until the next call.
    func directory(_ components: ArraySlice<String>, creating: Bool) throws(Failure) -> Int32? {
        var shared = 0
        while shared < min(chain.count, components.count), chain[shared].name == components[components.startIndex + shared] {
            shared += 1
        }
        if shared < chain.count { closeChain(from: shared) }
        for (index, name) in components.dropFirst(shared).enumerated() {
            let parent = shared + index == 0 ? root : chain[shared + index - 1].fd
            let relative = components.prefix(shared + index + 1).joined(separator: "/")
            guard let fd = try openDirectory(name, in: parent, relative: relative, creating: creating) else { return nil }
            chain.append((name, fd))
        }
        return components.isEmpty ? root : chain[components.count - 1].fd
    }

    private func openDirectory(_ name: String, in parent: Int32, relative: String, creating: Bool) throws(Failure) -> Int32? {
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        var fd = openat(parent, name, flags)
        if fd < 0, errno == ENOENT {
            guard creating else { return nil }
            guard mkdirat(parent, name, 0o700) == 0 || errno == EEXIST else { throw .system("cannot create directory", path: relative, errno: errno) }
            fd = openat(parent, name, flags)
        }
        guard fd < 0 else { return fd }
        let failed = errno
        guard failed == ELOOP || failed == ENOTDIR else { throw .system("cannot open directory", path: relative, errno: failed) }
        throw isSymlink(name, in: parent) ? .symlink(path: relative) : .notDirectory(path: relative)
    }

    private func closeChain(from index: Int) {
        for link in chain[index...] { close(link.fd) }
        chain.removeSubrange(index...)
    }

    func isSymlink(_ name: String, in parent: Int32) -> Bool {
        var info = stat()
        return fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    /// What is at `name`, without following it; nil when nothing is.
    func fileType(_ name: String, in parent: Int32) -> mode_t? {
        var info = stat()
        return fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? info.st_mode & S_IFMT : nil
    }

    /// Removes `name` and, for a directory, everything in it; unlinking never follows a symlink.
    func remove(_ name: String, in parent: Int32, relative: String) throws(Failure) {
        if unlinkat(parent, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR else { throw .system("cannot remove", path: relative, errno: errno) }
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open directory", path: relative, errno: errno) }
        defer { close(fd) }
        try removeContents(of: fd, relative: relative)
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 else { throw .system("cannot remove", path: relative, errno: errno) }
    }

    /// Empties the open directory `fd`, except for the names `keeping` returns true for;
    /// returns the names removed.
    @discardableResult
    func removeContents(of fd: Int32, relative: String, keeping: (String) -> Bool = { _ in false }) throws(Failure) -> [String] {
        // A directory without write permission would refuse unlinking as a normal user; ours anyway.
        if geteuid() != 0 { fchmod(fd, 0o700) }
        let removed = try names(in: fd, relative: relative).filter { !keeping($0) }
        for name in removed {
            try remove(name, in: fd, relative: relative.isEmpty ? name : relative + "/" + name)
        }
        return removed
    }

    private func names(in fd: Int32, relative: String) throws(Failure) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw .system("cannot list", path: relative, errno: errno)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }
}
