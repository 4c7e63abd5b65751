import Archive
import Dockerfile
import Foundation
import OCI
import Runtime
import Store
import Support

/// What a RUN that is not in the cache needs, made only then (a hit unpacks nothing).
struct RunInputs {
    /// The parent's snapshots, topmost first.
    var lowerDirs: [String]
    var users: UserDatabase
    /// Host directories or files for `--mount=type=bind`, by target.
    var bindSources: [String: String] = [:]
    /// Unpacked trees the bind sources live in, kept until the RUN is over.
    var trees: [ExtractedTree] = []
}

/// A RUN step as a layer: the command runs in an OCI runtime over the parent's snapshots, and
/// what it changed (the overlay's upper directory) is written through the same deterministic
/// pipeline as COPY. A cache hit starts no runtime.
struct RunLayerBuilder: Sendable {
    let store: Store
    let settings: LayerSettings
    let events: BuildEventHandler
    let runtime: OCIRuntime
    /// Set when the build runs as a normal user.
    let rootless: RootlessIDs?
    /// `--secret id=…,src=…`: secret id → file on the host. Never in a layer or a cache key.
    var secrets: [String: String] = [:]

    /// Lines of output kept for the error of a failed RUN.
    static let tailLines = 20

    /// `parentDiffIDs`: the chain the RUN runs on; `prepare` gives what running it needs.
    func build(
        _ step: RunStep, parentDiffIDs: [Digest], line: Int, description: String, id: Int, prepare: () throws -> RunInputs
    ) throws -> BuiltLayer {
        let key = cacheKey(step, parentDiffIDs: parentDiffIDs)
        if settings.useCache, let cached = store.cachedLayer(key: key) {
            events(.layerFinished(id: id, digest: cached.digest, size: cached.size, cached: true))
            return BuiltLayer(layer: cached, cached: true)
        }
        let inputs = try prepare()
        // Absolute: the overlay's upper and work directories are in it.
        let scratch = URL(fileURLWithPath: store.root).standardizedFileURL.path + "/ingest/run-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: scratch)
            // What a RUN made as a subordinate id (USER 185) only the namespace can remove.
            try? SubordinateOwners(rootless)?.removeTree(scratch)
        }
        let upper = "\(scratch)/upper"
        var tail: [String] = []
        let (spec, caches) = try bundleSpec(step, inputs: inputs, scratch: scratch)
        let status = try withExtendedLifetime((inputs.trees, caches)) {
            try BundleRunner(runtime: runtime, scratchDir: scratch).run(spec, lowerDirs: inputs.lowerDirs, upperDir: upper) { text in
                events(.runOutput(line: line, text: text))
                tail = Array((tail + [text]).suffix(Self.tailLines))
            }
        }
        guard status == 0 else {
            throw BuildError(
                "RUN exited with status \(status): \(step.command.joined(separator: " "))"
                    + (tail.isEmpty ? "" : "\n" + tail.map { "  | \($0)" }.joined(separator: "\n")),
                hint: "the lines above are the end of its output")
        }
        let entries = try Self.layerEntries(changes(upper: upper, scratch: scratch), upper: upper)
        // The upper directory's inodes are new each run, so LayerBuilder's file-identity cache
        // has nothing to find; the RUN's own key (above) is the cache.
        var uncached = settings
        uncached.useCache = false
        let built = try LayerBuilder(store: store, settings: uncached, events: events).build(entries, description: description, id: id)
        try store.rememberLayer(built.layer, key: key)
        return built
    }

    /// What the RUN changed, with the owners it gave. Rootless with subordinate ids, files of
    /// ids other than root are first taken back by the caller (who could not read a 0600 file of
    /// USER 185), their owners kept aside for the layer.
    private func changes(upper: String, scratch: String) throws -> [UpperChange] {
        let owners = try SubordinateOwners(rootless)?.takeBack(upper, listing: "\(scratch)/owners") ?? [:]
        var changes = try UpperDirectory.changes(at: upper, ids: rootless)
        for index in changes.indices {
            guard let owner = owners[changes[index].path] else { continue }
            changes[index].uid = owner.uid
            changes[index].gid = owner.gid
        }
        return changes
    }

    /// The parent chain and everything the RUN sees (never a secret's value), with the layer settings.
    func cacheKey(_ step: RunStep, parentDiffIDs: [Digest]) -> String {
        let chain = parentDiffIDs.map(\.description).joined(separator: ",")
        let layer = "\(settings.compression.rawValue):\(settings.level):\(settings.compressArchives):\(settings.epoch)"
        return LayerBuilder.hash("run-v1\n\(chain)\n\(layer)\n\(step.cacheKey)")
    }

    /// The bundle, and the cache mounts whose locks must be held while it runs.
    func bundleSpec(_ step: RunStep, inputs: RunInputs, scratch: String) throws -> (BundleSpec, [RunCacheMount]) {
        var mounts: [BundleMount] = []
        var caches: [RunCacheMount] = []
        for mount in step.mounts {
            switch mount {
            case .tmpfs(let target, let size):
                mounts.append(.tmpfs(destination: target, sizeBytes: size))
            case .cache(let cache):
                // Absolute, as the runtime resolves bind sources from its own directory.
                let cacheRoot = URL(fileURLWithPath: store.root).standardizedFileURL.path + "/run-cache"
                let held = try RunCacheMount(cache, cacheRoot: cacheRoot, scratch: scratch, rootless: rootless)
                caches.append(held)
                mounts.append(.bind(source: held.path, destination: cache.target, readOnly: cache.readOnly))
            case .secret(let secret):
                if let file = try secretFile(secret, scratch: scratch) { mounts.append(.bind(source: file, destination: secret.target, readOnly: true)) }
            case .bind(let bind):
                guard let source = inputs.bindSources[bind.target] else { throw BuildError("RUN --mount=type=bind,target=\(bind.target) has no source") }
                // Writes to a bind mount are not kept, as in Docker; a read-only bind of our copy gives the same.
                mounts.append(.bind(source: source, destination: bind.target, readOnly: true))
            case .file(let target, let content, let mode):
                mounts.append(.bind(source: try scriptFile(content, mode: mode, scratch: scratch), destination: target, readOnly: true))
            }
        }
        let ids = try inputs.users.resolve(step.user ?? "root", what: "USER \(step.user ?? "root")")
        let spec = BundleSpec(
            args: step.command, env: step.environment, cwd: step.workdir, user: ProcessUser(uid: ids.uid, gid: ids.gid),
            rootPath: "rootfs", network: step.network == .none ? .none : .host, mounts: mounts, rootless: rootless)
        return (spec, caches)
    }

    /// A shebang heredoc's body as a file of the RUN's scratch directory, to be bound read-only
    /// where the command runs it (BuildKit mounts it under /dev/pipes the same way).
    private func scriptFile(_ content: String, mode: UInt32, scratch: String) throws -> String {
        let directory = "\(scratch)/scripts"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let path = "\(directory)/\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: mode]) else {
            throw BuildError("cannot write the heredoc script to \(path): \(errnoDescription())")
        }
        return path
    }

    /// A copy of the secret in the RUN's scratch directory, with the mount's mode and owner (0600
    /// from the first byte); nil when an optional secret was not given.
    private func secretFile(_ secret: SecretMount, scratch: String) throws -> String? {
        guard let source = secrets[secret.id] else {
            guard !secret.required else {
                throw BuildError("RUN --mount=type=secret,id=\(secret.id) is required but no secret has that id", hint: "pass --secret id=\(secret.id),src=FILE")
            }
            return nil
        }
        guard let data = FileManager.default.contents(atPath: source) else {
            throw BuildError("cannot read secret \(secret.id) from \(source)", hint: "check the path given to --secret")
        }
        let directory = "\(scratch)/secrets"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = "\(directory)/\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw BuildError("cannot write the secret \(secret.id) to \(path)")
        }
        try FileManager.default.setAttributes([.posixPermissions: secret.mode], ofItemAtPath: path)
        // Rootless, the caller is root inside; ids outside would need the subordinate range.
        if rootless == nil { _ = chown(path, uid_t(secret.uid), gid_t(secret.gid)) }
        return path
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
                if opaque { entries.append(marker(EntryName.opaqueMarker(in: change.path))) }
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
                entries.append(marker(EntryName.whiteout(of: change.path)))
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
