import Glibc

/// A runtime creates a missing mount point (/proc, /etc/resolv.conf, a cache target) in the
/// root file system, so in the upper directory, copying up its parent directory on the way.
/// Those are not the RUN's doing and must not end up in the layer (BuildKit removes them too).
enum Mountpoints {
    /// Removes, deepest first, each empty file or directory on the way to a destination that
    /// no lower directory has, and each empty directory that is a plain copy of the lower one.
    static func removeCreated(_ destinations: [String], upperDir: String, lowerDirs: [String]) throws(RuntimeError) {
        let upper = try DirectoryHandle(path: upperDir)
        var lowers: [DirectoryHandle] = []
        for lower in lowerDirs { lowers.append(try DirectoryHandle(path: lower)) }
        // Longer paths sort after their prefixes, so /dev/shm goes before /dev.
        for destination in Set(destinations).sorted(by: >) {
            let parts = destination.split(separator: "/").map(String.init)
            var chain = [upper]
            for part in parts.dropLast() {
                guard let next = DirectoryHandle(child: part, of: chain[chain.count - 1]) else { break }
                chain.append(next)
            }
            guard chain.count == parts.count else { continue }
            for depth in parts.indices.reversed() {
                let (directory, name) = (chain[depth], parts[depth])
                guard let info = directory.status(name), let isDirectory = isPlaceholder(name, info, in: directory),
                      lowers.allSatisfy({ hides(info, at: parts[...depth], in: $0) }),
                      directory.remove(name, directory: isDirectory)
                else { break }
            }
        }
    }

    /// Whether the entry is an empty directory that overlayfs does not mark opaque (true) or an
    /// empty regular file (false); nil for anything else.
    private static func isPlaceholder(_ name: String, _ info: stat, in directory: DirectoryHandle) -> Bool? {
        switch info.st_mode & S_IFMT {
        case S_IFREG where info.st_size == 0:
            return false
        case S_IFDIR:
            guard let child = DirectoryHandle(child: name, of: directory), !child.isOpaque,
                  (try? child.names(path: name))?.isEmpty == true
            else { return nil }
            return true
        default:
            return nil
        }
    }

    /// Whether removing the upper entry leaves this lower directory's view as it was: the lower
    /// has nothing there, or the same directory (type, mode, owner). A symlink on the way counts
    /// as a difference: we never look through it, and keeping an entry is the safe side.
    private static func hides(_ upper: stat, at path: ArraySlice<String>, in lower: DirectoryHandle) -> Bool {
        var directory = lower
        for part in path.dropLast() {
            guard let info = directory.status(part) else { return true }
            guard info.st_mode & S_IFMT == S_IFDIR, let next = DirectoryHandle(child: part, of: directory) else { return false }
            directory = next
        }
        guard let info = directory.status(path[path.endIndex - 1]) else { return true }
        return upper.st_mode & S_IFMT == S_IFDIR && info.st_mode == upper.st_mode
            && info.st_uid == upper.st_uid && info.st_gid == upper.st_gid
    }
}
