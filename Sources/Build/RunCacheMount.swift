import Dockerfile
import Foundation
import Runtime
import Support

/// A `--mount=type=cache` directory for one RUN, with BuildKit's sharing modes: `shared` lets
/// concurrent builds use the directory together, `locked` waits until no other build has it,
/// `private` takes a fresh empty directory when another build has it. The lock is an flock(2)
/// on `run-cache/<id hash>.lock`, held (shared or exclusive) while the RUN runs; this type owns
/// its descriptor, so the lock ends with it.
final class RunCacheMount {
    /// The directory to bind at the mount's target.
    let path: String
    private let descriptor: Int32?

    /// `scratch` holds the fresh directory `private` may need; rootless, the owner is set in the
    /// user namespace (root, without a subordinate range).
    init(_ cache: CacheMount, cacheRoot: String, scratch: String, rootless: RootlessIDs?) throws {
        let shared = "\(cacheRoot)/\(LayerBuilder.hash(cache.id))"
        try FileManager.default.createDirectory(atPath: cacheRoot, withIntermediateDirectories: true)
        let lockPath = shared + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BuildError("cannot open the cache mount's lock \(lockPath): \(errnoDescription())") }
        switch cache.sharing {
        case .shared, .locked:
            try Self.lock(fd, cache.sharing == .shared ? LOCK_SH : LOCK_EX, path: lockPath)
            path = shared
            descriptor = fd
        case .private:
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                path = shared
                descriptor = fd
            } else {
                // Another build has it: this one starts from nothing, as BuildKit gives a new mount.
                close(fd)
                path = "\(scratch)/cache-\(UUID().uuidString)"
                descriptor = nil
            }
        }
        try Self.prepare(path, cache, rootless: rootless)
    }

    deinit {
        if let descriptor { close(descriptor) }
    }

    private static func lock(_ fd: Int32, _ operation: Int32, path: String) throws {
        while flock(fd, operation) != 0 {
            guard errno == EINTR else {
                let reason = errnoDescription()
                close(fd)
                throw BuildError("cannot lock the cache mount \(path): \(reason)")
            }
        }
    }

    /// Made on first use with the mount's mode and owner; kept as it is afterwards.
    private static func prepare(_ path: String, _ cache: CacheMount, rootless: RootlessIDs?) throws {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var attributes: [FileAttributeKey: Any] = [.posixPermissions: cache.mode]
        if rootless == nil { attributes.merge([.ownerAccountID: cache.uid, .groupOwnerAccountID: cache.gid]) { $1 } }
        try FileManager.default.setAttributes(attributes, ofItemAtPath: path)
        guard let owners = SubordinateOwners(rootless) else { return }
        let url = URL(fileURLWithPath: path)
        let lists = "\(path).owners"
        defer { try? FileManager.default.removeItem(atPath: lists) }
        try owners.apply([.init(path: url.lastPathComponent, uid: cache.uid, gid: cache.gid, mode: cache.mode)],
                         in: url.deletingLastPathComponent().path, scratch: lists)
    }
}
