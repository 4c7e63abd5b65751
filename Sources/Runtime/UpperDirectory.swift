import Glibc

/// Reads an overlay's upper directory as a list of changes, the way containerd's overlay
/// differ does, without following any symlink the RUN left there.
public enum UpperDirectory {
    /// Parents before children, siblings by name. `ids` maps owners back into the RUN's user
    /// namespace (rootless: the caller's files are root's).
    public static func changes(at path: String, ids: RootlessIDs? = nil) throws(RuntimeError) -> [UpperChange] {
        var walk = Walk(ids: ids)
        try walk.visit(DirectoryHandle(path: path), path: path, relative: "")
        return walk.changes
    }

    private struct Walk {
        let ids: RootlessIDs?
        var changes: [UpperChange] = []
        /// First path of each multiply-linked inode, for hard links.
        var inodes: [String: String] = [:]

        mutating func visit(_ directory: DirectoryHandle, path: String, relative: String) throws(RuntimeError) {
            for name in try directory.names(path: path) {
                let child = relative.isEmpty ? name : relative + "/" + name
                guard let info = directory.status(name) else { throw RuntimeError.errno("cannot stat \(path)/\(name)") }
                var opened: DirectoryHandle?
                if info.st_mode & S_IFMT == S_IFDIR {
                    guard let handle = DirectoryHandle(child: name, of: directory) else {
                        throw RuntimeError.errno("cannot open \(path)/\(name)")
                    }
                    opened = handle
                }
                changes.append(change(child, info: info, directory: directory, name: name, opened: opened))
                if let opened { try visit(opened, path: path + "/" + name, relative: child) }
            }
        }

        private mutating func change(
            _ path: String, info: stat, directory: DirectoryHandle, name: String, opened: DirectoryHandle?
        ) -> UpperChange {
            let kind: UpperChange.Kind
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                kind = .directory(opaque: opened?.isOpaque ?? false)
            case S_IFREG:
                let inode = "\(info.st_dev):\(info.st_ino)"
                if info.st_nlink > 1, let first = inodes[inode] {
                    kind = .hardlink(target: first)
                } else {
                    if info.st_nlink > 1 { inodes[inode] = path }
                    kind = .file(size: Int64(info.st_size))
                }
            case S_IFLNK:
                kind = .symlink(target: directory.linkTarget(name) ?? "")
            case S_IFCHR where info.st_rdev == 0:
                kind = .whiteout
            default:
                kind = .special
            }
            return UpperChange(
                path: path, kind: kind, mode: UInt32(info.st_mode & 0o7777),
                uid: Self.inside(Int(info.st_uid), ids?.uidMappings), gid: Self.inside(Int(info.st_gid), ids?.gidMappings),
                mtime: Int64(info.st_mtim.tv_sec))
        }

        /// The id inside the namespace for a host id; unmapped ids (overflow) stay as they are.
        private static func inside(_ host: Int, _ mappings: [IDMapping]?) -> Int {
            guard let mapping = mappings?.first(where: { (($0.hostID)..<($0.hostID + $0.size)).contains(host) }) else { return host }
            return mapping.containerID + host - mapping.hostID
        }
    }
}
