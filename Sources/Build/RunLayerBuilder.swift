import Archive
import Dockerfile
import Foundation
import OCI
import Runtime
import Store
import Support

/// A RUN step as a layer: the command runs in an OCI runtime over the parent's unpacked file
/// tree, and what it changed (the overlay's upper directory) is written through the same
/// deterministic pipeline as COPY. A cache hit starts no runtime.
// TODO(unpacker): the lower directories become the parent's snapshots, made once per diff_id by
// the safe unpacker; then ImageBuilder calls this instead of refusing RUN.
struct RunLayerBuilder: Sendable {
    let store: Store
    let settings: LayerSettings
    let events: BuildEventHandler
    let runtime: OCIRuntime
    /// Set when the build runs as a normal user.
    let rootless: RootlessIDs?

    /// Lines of output kept for the error of a failed RUN.
    static let tailLines = 20

    /// `lowerDirs`: the parent's file tree, topmost first; `parentDiffIDs`: the chain it stands for.
    func build(
        _ step: RunStep, lowerDirs: [String], parentDiffIDs: [Digest], line: Int, description: String, id: Int
    ) throws -> BuiltLayer {
        let key = cacheKey(step, parentDiffIDs: parentDiffIDs)
        if settings.useCache, let cached = store.cachedLayer(key: key) {
            events(.layerFinished(id: id, digest: cached.digest, size: cached.size, cached: true))
            return BuiltLayer(layer: cached, cached: true)
        }
        let scratch = "\(store.root)/ingest/run-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let upper = "\(scratch)/upper"
        var tail: [String] = []
        let status = try BundleRunner(runtime: runtime, scratchDir: scratch).run(
            try bundleSpec(step), lowerDirs: lowerDirs, upperDir: upper
        ) { text in
            events(.runOutput(line: line, text: text))
            tail = Array((tail + [text]).suffix(Self.tailLines))
        }
        guard status == 0 else {
            throw BuildError(
                "RUN exited with status \(status): \(step.command.joined(separator: " "))"
                    + (tail.isEmpty ? "" : "\n" + tail.map { "  | \($0)" }.joined(separator: "\n")),
                hint: "the lines above are the end of its output")
        }
        let entries = try Self.layerEntries(UpperDirectory.changes(at: upper, ids: rootless), upper: upper)
        // The upper directory's inodes are new each run, so LayerBuilder's file-identity cache
        // has nothing to find; the RUN's own key (above) is the cache.
        var uncached = settings
        uncached.useCache = false
        let built = try LayerBuilder(store: store, settings: uncached, events: events).build(entries, description: description, id: id)
        try store.rememberLayer(built.layer, key: key)
        return built
    }

    /// The parent chain and everything the RUN sees (never a secret's value), with the layer settings.
    func cacheKey(_ step: RunStep, parentDiffIDs: [Digest]) -> String {
        let chain = parentDiffIDs.map(\.description).joined(separator: ",")
        let layer = "\(settings.compression.rawValue):\(settings.level):\(settings.compressArchives):\(settings.epoch)"
        return LayerBuilder.hash("run-v1\n\(chain)\n\(layer)\n\(step.cacheKey)")
    }

    func bundleSpec(_ step: RunStep) throws -> BundleSpec {
        var mounts: [BundleMount] = []
        for mount in step.mounts {
            switch mount {
            case .tmpfs(let target, let size):
                mounts.append(.tmpfs(destination: target, sizeBytes: size))
            case .cache(let cache):
                mounts.append(.bind(source: try cacheDirectory(cache), destination: cache.target, readOnly: cache.readOnly))
            case .bind, .secret, .file:
                throw BuildError("RUN --mount=\(mount.kindName) is not supported yet", hint: "use type=cache or type=tmpfs for now")
            }
        }
        return BundleSpec(
            args: step.command, env: step.environment, cwd: step.workdir, user: try Self.processUser(step.user),
            rootPath: "rootfs", network: step.network == .none ? .none : .host, mounts: mounts, rootless: rootless)
    }

    /// A cache mount's directory in the store, kept across builds (sharing modes come later).
    private func cacheDirectory(_ cache: CacheMount) throws -> String {
        let path = "\(store.root)/run-cache/\(LayerBuilder.hash(cache.id))"
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try FileManager.default.setAttributes(
                [.posixPermissions: cache.mode, .ownerAccountID: cache.uid, .groupOwnerAccountID: cache.gid], ofItemAtPath: path)
        }
        return path
    }

    /// `uid[:gid]` by number, or root.
    // TODO(user names): resolve names through the image's /etc/passwd and /etc/group.
    static func processUser(_ user: String?) throws -> ProcessUser {
        guard let user, !user.isEmpty, user != "root", user != "0" else { return ProcessUser(uid: 0, gid: 0) }
        let parts = user.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let uid = Int(parts[0]), uid >= 0 else {
            throw BuildError("RUN as user \"\(user)\": only numeric users are supported yet", hint: "write USER 185 or USER 185:0")
        }
        let gid = parts.count == 2 ? Int(parts[1]) : 0
        guard let gid, gid >= 0 else { throw BuildError("RUN as user \"\(user)\": the group is not a number", hint: "write USER 185:0") }
        return ProcessUser(uid: uid, gid: gid)
    }

    /// Upper-directory changes as layer entries: whiteouts and opaque markers are empty files
    /// under their OCI names; devices, FIFOs and sockets are refused.
    static func layerEntries(_ changes: [UpperChange], upper: String) throws -> [LayerEntry] {
        var entries: [LayerEntry] = []
        for change in changes {
            let item = SourceItem(
                contextPath: change.path, kind: .directory, mode: change.mode, uid: change.uid, gid: change.gid,
                contents: .none, identity: change.path, hardlinkKey: nil)
            switch change.kind {
            case .directory(let opaque):
                entries.append(LayerEntry(imagePath: change.path, item: item))
                if opaque { entries.append(marker(change.layerPaths[1])) }
            case .file(let size):
                var file = item
                file.kind = .file(size: size)
                file.contents = .file(path: "\(upper)/\(change.path)")
                entries.append(LayerEntry(imagePath: change.path, item: file))
            case .symlink(let target):
                var link = item
                link.kind = .symlink(target: target)
                entries.append(LayerEntry(imagePath: change.path, item: link))
            case .hardlink(let target):
                // LayerBuilder links every later path with the same key to the first one.
                guard let first = entries.firstIndex(where: { $0.imagePath == target }) else { continue }
                entries[first].item.hardlinkKey = target
                var file = entries[first].item
                file.contextPath = change.path
                entries.append(LayerEntry(imagePath: change.path, item: file))
            case .whiteout:
                entries.append(marker(change.layerPaths[0]))
            case .special:
                throw BuildError("RUN made \(change.path), a device, FIFO or socket, which this tool does not put in layers",
                                 hint: "remove it at the end of the RUN")
            }
        }
        return entries
    }

    private static func marker(_ path: String) -> LayerEntry {
        LayerEntry(imagePath: path, item: SourceItem(
            contextPath: path, kind: .file(size: 0), mode: 0, uid: 0, gid: 0, contents: .bytes([]), identity: "whiteout", hardlinkKey: nil))
    }
}

extension RunMount {
    var kindName: String {
        switch self {
        case .bind: "bind"
        case .cache: "cache"
        case .secret: "secret"
        case .tmpfs: "tmpfs"
        case .file: "heredoc script"
        }
    }
}
