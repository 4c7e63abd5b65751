import Foundation
import OCI
import Store

extension UserDatabase {
    /// The image's /etc/passwd and /etc/group, read from its layers (only those two files are
    /// unpacked); a file that is missing, a symlink or a hard link counts as empty.
    static func of(_ layers: [Descriptor], store: Store) throws -> UserDatabase {
        let files = ["etc/passwd", "etc/group"]
        let tree = try ExtractedTree.unpack(layers, from: store, sources: files)
        let texts = files.map { path -> String in
            guard tree.metadata["etc"]?.kind == .directory, case .file = tree.metadata[path]?.kind,
                  let data = Self.readWithoutFollowing("\(tree.directory)/\(path)")
            else { return "" }
            return String(decoding: data, as: UTF8.self)
        }
        return UserDatabase(passwd: texts[0], group: texts[1])
    }

    private static func readWithoutFollowing(_ path: String) -> Data? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        return try? FileHandle(fileDescriptor: fd, closeOnDealloc: true).readToEnd()
    }
}

extension UserDatabase {
    /// The same files read from a RUN's lower directories (snapshots, topmost first) without
    /// unpacking anything: the topmost snapshot that has the file, or that deletes it (a
    /// whiteout), decides. Symlinks are not followed; a symlinked /etc or file counts as empty.
    static func of(snapshots lowerDirs: [String]) -> UserDatabase {
        let texts = ["passwd", "group"].map { name in
            for dir in lowerDirs {
                switch (fileType("\(dir)/etc"), fileType("\(dir)/etc/\(name)")) {
                case (nil, _), (S_IFDIR, nil): continue
                case (S_IFDIR, S_IFREG): return readWithoutFollowing("\(dir)/etc/\(name)").map { String(decoding: $0, as: UTF8.self) } ?? ""
                default: return ""
                }
            }
            return ""
        }
        return UserDatabase(passwd: texts[0], group: texts[1])
    }

    private static func fileType(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }
}
