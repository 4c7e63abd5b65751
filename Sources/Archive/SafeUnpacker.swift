import CArchive
import Foundation
import Support

/// How an unpacker treats what an image layer means beyond plain files.
public struct UnpackOptions: Sendable {
    public enum Whiteouts: Sendable, Equatable {
        /// Delete what a whiteout names from the directory (COPY --from, ADD).
        case apply
        /// Record whiteouts as overlayfs does, for a snapshot used as a lower directory: a 0/0
        /// character device, and `opaqueXattr` = "y" on an opaque directory
        /// (`trusted.overlay.opaque`, or `user.overlay.opaque` in a user namespace).
        case overlay(opaqueXattr: String)
    }

    public enum Ownership: Sendable, Equatable {
        /// Owners, setuid and setgid bits as the archive says (needs root, or a user namespace).
        case preserve
        /// Everything belongs to the caller, without setuid or setgid bits, and stays readable
        /// and removable by the caller (u+rw, directories u+rwx): a scratch copy whose
        /// metadata the caller takes from the tar headers.
        case currentUser
    }

    public var whiteouts: Whiteouts
    public var ownership: Ownership
    /// Character and block devices and FIFOs are made only when allowed; otherwise skipped with a note.
    public var allowDevices: Bool

    public init(whiteouts: Whiteouts = .apply, ownership: Ownership, allowDevices: Bool = false) {
        self.whiteouts = whiteouts
        self.ownership = ownership
        self.allowDevices = allowDevices
    }
}

/// What an unpack did, for callers that keep their own view of the tree.
public enum UnpackEvent: Sendable {
    /// An entry was written; its path is the checked relative path.
    case wrote(TarEntry)
    /// A whiteout (or an opaque directory's) removed this path and everything below it.
    case removed(String)
    case skipped(TarEntry, reason: String)
}

/// Unpacks tar archives (image layers, ADDed tarballs) into one directory and never changes
/// anything outside it: every path is resolved below the directory without following symlinks,
/// hard links reach only files already inside, whiteouts are recognised by exact names, and
/// names with `..`, `.`, empty components or a leading `/` are refused. Several archives may be
/// unpacked in order (layers); `finish()` then gives directories their archive metadata.
public final class SafeUnpacker {
    public let directory: String
    public let options: UnpackOptions
    /// Entries skipped, for the caller to report once.
    public private(set) var notes: [String] = []
    private let tree: BeneathDirectory
    /// Directory metadata is applied last: creating children changes a directory's mtime, and
    /// a read-only directory must stay writable until its children are in.
    private var directories: [String: TarEntry] = [:]
    /// Paths the archive being unpacked has written: an opaque whiteout hides what the layers
    /// below left in its directory, not what its own layer put there before the marker.
    private var written: Set<String> = []

    public init(into directory: String, options: UnpackOptions) throws {
        self.directory = directory
        self.options = options
        do { tree = try BeneathDirectory(path: directory) } catch { throw Self.describe(error, archive: directory, entry: nil) }
    }

    /// Unpacks the archive at `path`. `name` stands for it in errors (a layer's digest, a file
    /// of the build context); `including` sees each checked path (for a whiteout, the path it
    /// removes) and may leave it out.
    public func unpack(_ path: String, name: String? = nil, including: (String) -> Bool = { _ in true },
                       observe: (UnpackEvent) -> Void = { _ in }) throws {
        try unpack(try TarReader(path: path), name: name ?? path, including: including, observe: observe)
    }

    /// Unpacks what `reader` reads (one that also hashes the stream, for a snapshot).
    public func unpack(_ reader: TarReader, name archive: String, including: (String) -> Bool = { _ in true },
                       observe: (UnpackEvent) -> Void = { _ in }) throws {
        written = []
        while let entry = try reader.next() {
            do {
                try unpack(entry, from: reader, including: including, observe: observe)
            } catch let refusal as EntryName.Refusal {
                throw ArchiveError(path: archive, "entry '\(entry.path)': \(refusal.reason)", hint: Self.hostileHint)
            } catch let failure as BeneathDirectory.Failure {
                throw Self.describe(failure, archive: archive, entry: entry.path)
            }
        }
    }

    /// Gives directories the mode, owner and mtime their last entry asked for.
    public func finish() throws {
        for (path, entry) in directories.sorted(by: { $0.key < $1.key }) {
            let components = path.split(separator: "/").map(String.init)
            do {
                guard let fd = try tree.directory(components[...], creating: false) else { continue }
                try setMetadata(entry, fd: fd, isDirectory: true, path: path)
            } catch {
                throw Self.describe(error, archive: directory, entry: path)
            }
        }
        directories = [:]
    }

    private func unpack(_ entry: TarEntry, from reader: TarReader, including: (String) -> Bool,
                        observe: (UnpackEvent) -> Void) throws {
        let components = try EntryName.components(of: entry.path)
        guard let last = components.last else { return }
        let parent = components.dropLast()
        switch try EntryName.role(of: last) {
        case .aufsMetadata:
            return
        case .opaque:
            let path = parent.joined(separator: "/")
            guard including(path) else { return }
            for removed in try opaque(parent, path: path) { observe(.removed(removed)) }
        case .whiteout(let name):
            let path = (parent + [name]).joined(separator: "/")
            guard including(path) else { return }
            try whiteout(name, parent: parent, path: path)
            observe(.removed(path))
        case .plain:
            var checked = entry
            checked.path = components.joined(separator: "/")
            guard including(checked.path) else { return }
            written.insert(checked.path)
            if let reason = try write(checked, name: last, parent: parent, reader: reader) {
                notes.append("\(checked.path): \(reason)")
                observe(.skipped(checked, reason: reason))
            } else {
                observe(.wrote(checked))
            }
        }
    }

    // MARK: - Whiteouts

    /// Returns the paths removed.
    private func opaque(_ parent: ArraySlice<String>, path: String) throws -> [String] {
        switch options.whiteouts {
        case .apply:
            guard let fd = try tree.directory(parent, creating: false) else { return [] }
            let below = path.isEmpty ? "" : path + "/"
            let removed = try tree.removeContents(of: fd, relative: path) { written.contains(below + $0) }
            for name in removed {
                directories[below + name] = nil
                forgetBelow(below + name)
            }
            return removed.map { below + $0 }
        case .overlay(let xattr):
            let fd = try tree.directory(parent, creating: true)!
            guard fsetxattr(fd, xattr, "y", 1, 0) == 0 else {
                throw BeneathDirectory.Failure.system("cannot set \(xattr) on", path: path, errno: errno)
            }
            return []
        }
    }

    private func whiteout(_ name: String, parent: ArraySlice<String>, path: String) throws {
        switch options.whiteouts {
        case .apply:
            guard let fd = try tree.directory(parent, creating: false) else { return }
            try replaceExisting(name, in: fd, parent: parent)
        case .overlay:
            let fd = try emptySlot(name, parent: parent)
            guard mknodat(fd, name, S_IFCHR | 0o600, 0) == 0 else {
                throw BeneathDirectory.Failure.system("cannot record the whiteout", path: path, errno: errno)
            }
        }
    }

    private func forgetBelow(_ path: String) {
        for key in directories.keys where key.hasPrefix(path + "/") { directories[key] = nil }
    }

    // MARK: - Entries

    /// Writes one entry; returns why it was skipped, if it was.
    private func write(_ entry: TarEntry, name: String, parent: ArraySlice<String>, reader: TarReader) throws -> String? {
        switch entry.kind {
        case .hardlink(let target):
            try hardlink(entry, name: name, parent: parent, target: target)
        case .directory:
            let fd = try tree.directory(parent, creating: true)!
            if tree.fileType(name, in: fd) != S_IFDIR {
                try replaceExisting(name, in: fd, parent: parent)
                guard mkdirat(fd, name, 0o700) == 0 else { throw BeneathDirectory.Failure.system("cannot create directory", path: entry.path, errno: errno) }
            }
            directories[entry.path] = entry
        case .file:
            let fd = try emptySlot(name, parent: parent)
            try writeFile(entry, name: name, in: fd, reader: reader)
        case .symlink(let target):
            let fd = try emptySlot(name, parent: parent)
            guard symlinkat(target, fd, name) == 0 else { throw BeneathDirectory.Failure.system("cannot create symlink", path: entry.path, errno: errno) }
            try setLinkMetadata(entry, name: name, in: fd)
        case .special:
            guard options.allowDevices, let node = reader.node else { return "device, FIFO or socket skipped" }
            let fd = try emptySlot(name, parent: parent)
            guard mknodat(fd, name, node.type | mode_t(entry.mode & 0o777), node.device) == 0 else {
                throw BeneathDirectory.Failure.system("cannot create device node", path: entry.path, errno: errno)
            }
            try setLinkMetadata(entry, name: name, in: fd)
        }
        return nil
    }

    /// The parent directory of `name`, created if missing, with nothing at `name` any more.
    private func emptySlot(_ name: String, parent: ArraySlice<String>) throws -> Int32 {
        let fd = try tree.directory(parent, creating: true)!
        try replaceExisting(name, in: fd, parent: parent)
        return fd
    }

    /// Whatever an entry (or a whiteout) replaces goes first, so nothing is written through an
    /// old symlink or into a file that other paths share as a hard link.
    private func replaceExisting(_ name: String, in fd: Int32, parent: ArraySlice<String>) throws {
        guard tree.fileType(name, in: fd) != nil else { return }
        let path = (parent + [name]).joined(separator: "/")
        try tree.remove(name, in: fd, relative: path)
        directories[path] = nil
        forgetBelow(path)
    }

    private func writeFile(_ entry: TarEntry, name: String, in parent: Int32, reader: TarReader) throws {
        let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BeneathDirectory.Failure.system("cannot create", path: entry.path, errno: errno) }
        defer { close(fd) }
        try reader.readData { chunk in
            var rest = chunk
            while !rest.isEmpty {
                let written = Glibc.write(fd, rest.baseAddress, rest.count)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw BeneathDirectory.Failure.system("cannot write", path: entry.path, errno: errno)
                }
                rest = UnsafeRawBufferPointer(rebasing: rest[written...])
            }
        }
        try setMetadata(entry, fd: fd, isDirectory: false, path: entry.path)
    }

    private func hardlink(_ entry: TarEntry, name: String, parent: ArraySlice<String>, target: String) throws {
        let targetComponents = try EntryName.components(of: target)
        guard let targetName = targetComponents.last, targetComponents != parent + [name] else {
            throw EntryName.Refusal(reason: "the hard link target '\(target)' is not a file in the archive")
        }
        // Two directories are needed at once: hold the target's by a descriptor of our own.
        guard let shared = try tree.directory(targetComponents.dropLast(), creating: false) else {
            throw EntryName.Refusal(reason: "the hard link target '\(target)' is not in the archive")
        }
        let targetParent = dup(shared)
        guard targetParent >= 0 else { throw BeneathDirectory.Failure.system("cannot link", path: entry.path, errno: errno) }
        defer { close(targetParent) }
        guard let type = tree.fileType(targetName, in: targetParent), type != S_IFDIR else {
            throw EntryName.Refusal(reason: "the hard link target '\(target)' is not a file in the archive")
        }
        let fd = try emptySlot(name, parent: parent)
        guard linkat(targetParent, targetName, fd, name, 0) == 0 else {
            throw BeneathDirectory.Failure.system("cannot link to '\(target)'", path: entry.path, errno: errno)
        }
    }

    // MARK: - Metadata

    private func setMetadata(_ entry: TarEntry, fd: Int32, isDirectory: Bool, path: String) throws {
        var mode = mode_t(entry.mode & 0o7777)
        switch options.ownership {
        case .preserve:
            // Before the mode: chown clears setuid and setgid.
            guard fchown(fd, uid_t(entry.uid), gid_t(entry.gid)) == 0 else {
                throw BeneathDirectory.Failure.system("cannot set the owner of", path: path, errno: errno)
            }
        case .currentUser:
            mode = (mode & 0o1777) | (isDirectory ? 0o700 : 0o600)
        }
        guard fchmod(fd, mode) == 0 else { throw BeneathDirectory.Failure.system("cannot set the mode of", path: path, errno: errno) }
        guard futimens(fd, Self.times(entry.mtime)) == 0 else { throw BeneathDirectory.Failure.system("cannot set the mtime of", path: path, errno: errno) }
    }

    private func setLinkMetadata(_ entry: TarEntry, name: String, in parent: Int32) throws {
        if options.ownership == .preserve, fchownat(parent, name, uid_t(entry.uid), gid_t(entry.gid), AT_SYMLINK_NOFOLLOW) != 0 {
            throw BeneathDirectory.Failure.system("cannot set the owner of", path: entry.path, errno: errno)
        }
        guard utimensat(parent, name, Self.times(entry.mtime), AT_SYMLINK_NOFOLLOW) == 0 else {
            throw BeneathDirectory.Failure.system("cannot set the mtime of", path: entry.path, errno: errno)
        }
    }

    /// Access and modification time, as the two-element array futimens and utimensat read. Not a
    /// tuple: `&tuple.0` may point at a copy of the first element alone, and release builds then
    /// pass garbage for the second (EINVAL on dev/console of a Debian base).
    private static func times(_ mtime: Int64) -> [timespec] {
        let time = timespec(tv_sec: Int(mtime), tv_nsec: 0)
        return [time, time]
    }

    // MARK: - Errors

    static let hostileHint = "the archive is malformed or hostile; nothing was written outside the directory it was unpacked into"

    static func describe(_ error: any Error, archive: String, entry: String?) -> any Error {
        let about = entry.map { "entry '\($0)': " } ?? ""
        switch error {
        case BeneathDirectory.Failure.symlink(let path):
            return ArchiveError(path: archive, "\(about)'\(path)' is a symlink, and unpacking never writes through symlinks",
                                hint: hostileHint)
        case BeneathDirectory.Failure.notDirectory(let path):
            return ArchiveError(path: archive, "\(about)'\(path)' is not a directory", hint: hostileHint)
        case BeneathDirectory.Failure.system(let what, let path, let code):
            return ArchiveError(path: archive, "\(about)\(what) \(path): \(errnoDescription(code))")
        default:
            return error
        }
    }
}
