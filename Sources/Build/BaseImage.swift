import Archive
import Foundation
import OCI
import Store
import Support

/// Where a base image comes from, as written after FROM or with --base.
enum BaseSource: Equatable, Sendable {
    case scratch
    case ociLayout(directory: String, tag: String?)
    case ociArchive(file: String, tag: String?)
    case dockerArchive(file: String)
    case rootfs(file: String)
    case reference(ImageReference)

    init(parsing text: String) throws(BuildError) {
        if text == "scratch" {
            self = .scratch
            return
        }
        let transports = ["oci-layout", "oci-archive", "docker-archive", "rootfs"]
        if let colon = text.firstIndex(of: ":"), transports.contains(String(text[..<colon])) {
            let rest = String(text[text.index(after: colon)...])
            guard !rest.isEmpty else { throw BuildError("base '\(text)' names no path", hint: "write \(text)/path/to/image") }
            switch text[..<colon] {
            case "oci-layout": let (path, tag) = Self.splitTag(rest); self = .ociLayout(directory: path, tag: tag)
            case "oci-archive": let (path, tag) = Self.splitTag(rest); self = .ociArchive(file: path, tag: tag)
            case "docker-archive": self = .dockerArchive(file: rest)
            default: self = .rootfs(file: rest)
            }
            return
        }
        do { self = .reference(try ImageReference(parsing: text)) } catch {
            throw BuildError("base image '\(text)' is neither an image reference nor one of scratch, oci-layout:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE, rootfs:FILE.tar[.gz]: \(error)")
        }
    }

    /// `path:tag`, where a colon inside the last path component starts the tag.
    private static func splitTag(_ text: String) -> (String, String?) {
        guard let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") else { return (text, nil) }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}

/// A base image whose blobs are all in the store.
struct BaseImage: Sendable {
    var config: ImageConfig
    var layers: [Descriptor]
    var description: String

    static func scratch(platform: Platform, created: String) -> BaseImage {
        var config = ImageConfig(platform: platform, created: created)
        config.history = []
        return BaseImage(config: config, layers: [], description: "scratch")
    }
}

/// When a base image named by reference is fetched from its registry (`--pull`).
public enum PullPolicy: String, Sendable, CaseIterable {
    case always, missing, never
}

/// Brings base images into the store from wherever they are.
struct BaseImporter: Sendable {
    let store: Store
    let settings: LayerSettings
    let platform: Platform
    let puller: (any ImageFetching)?
    let pullPolicy: PullPolicy

    func importBase(_ source: BaseSource) throws -> BaseImage {
        switch source {
        case .scratch:
            return .scratch(platform: platform, created: ImageAssembler.timestamp(settings.epoch))
        case .ociLayout(let directory, let tag):
            return try fromLayout(directory: directory, tag: tag)
        case .ociArchive(let file, let tag):
            return try fromOCIArchive(file: file, tag: tag)
        case .dockerArchive(let file):
            return try fromDockerArchive(file: file)
        case .rootfs(let file):
            return try fromRootfs(file: file)
        case .reference(let reference):
            let image = try storedOrPulled(reference)
            return BaseImage(config: image.config, layers: image.manifest.layers, description: reference.familiarDescription)
        }
    }

    /// The stored image when it serves this platform (and --pull allows it), else a fresh pull.
    private func storedOrPulled(_ reference: ImageReference) throws -> StoredImage {
        if pullPolicy != .always, let descriptor = try store.resolve(reference) {
            let image = try store.image(descriptor, platform: platform)
            if platform.matches(image.config.platform) || puller == nil || pullPolicy == .never { return image }
        }
        guard let puller, pullPolicy != .never else {
            throw BuildError("base image \(reference) is not in the local store\(pullPolicy == .never ? " and --pull never forbids fetching it" : "")",
                             hint: "pull it (spark-image-tool pull \(reference.familiarDescription)), or pass --base oci-layout:DIR[:tag], oci-archive:FILE, docker-archive:FILE or rootfs:FILE.tar (scripts/make-base-image.sh builds a Java base)")
        }
        return try store.image(try puller.pull(reference, platform: platform), platform: platform)
    }

    // MARK: - OCI layout directory

    private func fromLayout(directory: String, tag: String?) throws -> BaseImage {
        let source = try Store(root: directory)
        let descriptor = try pick(from: try source.tags(), rawIndex: "\(directory)/index.json", tag: tag, origin: "oci-layout:\(directory)")
        let image = try source.image(descriptor, platform: platform)
        for blob in [image.manifest.config] + image.manifest.layers where !store.hasBlob(blob.digest) {
            try store.ingest(expected: blob.digest, source: "\(directory)/\(Store.archivePath(blob.digest))") { sink in
                try RawFileReader(path: source.blobPath(blob.digest)).forEachChunk { try sink.write($0) }
            }
        }
        return BaseImage(config: image.config, layers: image.manifest.layers, description: "oci-layout:\(directory)")
    }

    /// The manifest a layout or archive index offers for `tag` (its ref.name), or its only one.
    private func pick(from tags: [TaggedImage], rawIndex: String, tag: String?, origin: String) throws -> Descriptor {
        let index = try CanonicalJSON.decode(ImageIndex.self, from: FileManager.default.contents(atPath: rawIndex) ?? Data())
        if let tag {
            let match = index.manifests.first { entry in
                let name = entry.annotations?[Annotation.refName]
                return name == tag || name.flatMap { try? ImageReference(parsing: $0) }?.tag == tag && tags.count <= 1
            }
            guard let match else {
                let names = index.manifests.compactMap { $0.annotations?[Annotation.refName] }
                throw BuildError("\(origin) has no image named '\(tag)'", hint: "it has: \(names.isEmpty ? "no named images" : names.joined(separator: ", "))")
            }
            return match
        }
        guard index.manifests.count == 1 else {
            let names = index.manifests.compactMap { $0.annotations?[Annotation.refName] }
            throw BuildError("\(origin) holds \(index.manifests.count) images; say which with :NAME", hint: "names: \(names.joined(separator: ", "))")
        }
        return index.manifests[0]
    }

    // MARK: - Archives

    /// Reads the small JSON files of an archive in a first pass; blobs are streamed in a second.
    private func smallFiles(of file: String) throws -> [String: [UInt8]] {
        let reader = try openArchive(file)
        var files: [String: [UInt8]] = [:]
        while let entry = try reader.next() {
            if case .file(let size) = entry.kind, size <= 4 << 20 { files[Self.normalise(entry.path)] = try reader.readAll() }
        }
        return files
    }

    private func fromOCIArchive(file: String, tag: String?) throws -> BaseImage {
        let files = try smallFiles(of: file)
        guard let indexBytes = files["index.json"] else {
            throw BuildError("\(file) is not an OCI archive: it has no index.json", hint: "for a `docker save` file use docker-archive:\(file)")
        }
        let staging = try stagingStore(for: files, indexBytes: indexBytes)
        defer { try? FileManager.default.removeItem(atPath: staging.root) }
        let descriptor = try pick(from: try staging.tags(), rawIndex: "\(staging.root)/index.json", tag: tag, origin: "oci-archive:\(file)")
        let image = try staging.image(descriptor, platform: platform)
        try streamBlobs(from: file, wanted: image.manifest.layers.map(\.digest))
        try storeSmallBlob(image.manifest.config.digest, files: files, archive: file)
        return BaseImage(config: image.config, layers: image.manifest.layers, description: "oci-archive:\(file)")
    }

    private func fromDockerArchive(file: String) throws -> BaseImage {
        let files = try smallFiles(of: file)
        guard let manifestBytes = files["manifest.json"],
              let entries = try? CanonicalJSON.decode([DockerArchiveManifest].self, from: manifestBytes), let entry = entries.first else {
            throw BuildError("\(file) is not a docker-archive: it has no readable manifest.json", hint: "create it with `docker save IMAGE -o \(file)`")
        }
        guard let configBytes = files[Self.normalise(entry.config)],
              let config = try? CanonicalJSON.decode(ImageConfig.self, from: configBytes) else {
            throw BuildError("\(file): the image config \(entry.config) is missing or not valid JSON")
        }
        guard config.rootfs.diffIDs.count == entry.layers.count else {
            throw BuildError("\(file): manifest.json lists \(entry.layers.count) layers but the config has \(config.rootfs.diffIDs.count) diff_ids")
        }
        let layers = try importDockerLayers(from: file, paths: entry.layers.map(Self.normalise), diffIDs: config.rootfs.diffIDs)
        return BaseImage(config: config, layers: layers, description: "docker-archive:\(file)")
    }

    /// Docker archives hold layers as plain tars (older docker) or compressed blobs (newer):
    /// plain ones are compressed on the way in, and each layer's diff_id is checked.
    private func importDockerLayers(from file: String, paths: [String], diffIDs: [Digest]) throws -> [Descriptor] {
        var found: [String: Descriptor] = [:]
        let reader = try openArchive(file)
        while let entry = try reader.next() {
            let path = Self.normalise(entry.path)
            guard let position = paths.firstIndex(of: path), found[path] == nil else { continue }
            let digests = try importLayer { sink in try reader.readData { try sink.write($0) } }
            let digest = Digest(sha256Hex: digests.digestHex)
            guard digests.diffIDHex == diffIDs[position].encoded else {
                throw BuildError("\(file): layer \(path) does not match its diff_id \(diffIDs[position]) (got sha256:\(digests.diffIDHex)); the archive is corrupt")
            }
            found[path] = Descriptor(mediaType: settings.layerMediaType, digest: digest, size: digests.compressedSize)
        }
        return try paths.map { path in
            guard let descriptor = found[path] else { throw BuildError("\(file): layer \(path) listed in manifest.json is missing from the archive") }
            return descriptor
        }
    }

    private func stagingStore(for files: [String: [UInt8]], indexBytes: [UInt8]) throws -> Store {
        let root = "\(store.root)/ingest/staging-\(UUID().uuidString)"
        let staging = try Store(root: root)
        try Data(indexBytes).write(to: URL(fileURLWithPath: "\(root)/index.json"))
        for (path, bytes) in files where path.hasPrefix("blobs/sha256/") {
            _ = try? staging.putBlob(bytes)
        }
        return staging
    }

    private func storeSmallBlob(_ digest: Digest, files: [String: [UInt8]], archive: String) throws {
        guard let bytes = files[Store.archivePath(digest)] else { throw StoreError.missingBlob(digest) }
        try store.ingest(expected: digest, source: "\(archive):\(Store.archivePath(digest))") { try $0.write(bytes) }
    }

    private func streamBlobs(from file: String, wanted: [Digest]) throws {
        var missing = Set(wanted.filter { !store.hasBlob($0) })
        guard !missing.isEmpty else { return }
        let reader = try openArchive(file)
        while let entry = try reader.next(), !missing.isEmpty {
            let path = Self.normalise(entry.path)
            guard let digest = missing.first(where: { Store.archivePath($0) == path }) else { continue }
            try store.ingest(expected: digest, source: "\(file):\(path)") { sink in try reader.readData { try sink.write($0) } }
            missing.remove(digest)
        }
        if let digest = missing.first { throw BuildError("\(file) lacks the blob \(digest) that its manifest lists; the archive is incomplete") }
    }

    private func openArchive(_ file: String) throws -> TarReader {
        guard FileManager.default.fileExists(atPath: file) else {
            throw BuildError("base archive \(file) does not exist")
        }
        return try TarReader(path: file)
    }

    // MARK: - Root file system tarball

    /// Imports a root file system tarball as a one-layer image, as `docker import` does. The
    /// result is cached by the file's identity, so the next build does not recompress it.
    private func fromRootfs(file: String) throws -> BaseImage {
        let item = try SourceItem.fromDisk(file, contextPath: file)
        guard case .file = item.kind else { throw BuildError("rootfs:\(file) is not a regular file") }
        let key = "rootfs-" + SHA256Hex.of("rootfs-v2\n\(file)\n\(item.identity)\n\(settings.compression.rawValue):\(settings.level)")
        var layer = store.cachedLayer(key: key)
        if layer == nil {
            let digests = try LayerWriter.importTarball(at: file, into: store, compression: settings.streamCompression)
            layer = CachedLayer(digests)
            try store.rememberLayer(layer!, key: key)
        }
        let created = ImageAssembler.timestamp(settings.epoch)
        var config = ImageConfig(platform: platform, created: created)
        var container = ContainerConfig()
        container.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        config.config = container
        config.rootfs = RootFS(diffIDs: [layer!.diffID])
        config.history = [History(created: created, createdBy: "spark-image-tool import rootfs:\((file as NSString).lastPathComponent)")]
        return BaseImage(config: config, layers: [Descriptor(mediaType: settings.layerMediaType, digest: layer!.digest, size: layer!.size)],
                         description: "rootfs:\(file)")
    }

    /// Spools a layer of unknown compression to a temporary file, then stores it recompressed
    /// with its diff_id computed.
    private func importLayer(_ write: (any ByteSink) throws -> Void) throws -> LayerDigests {
        let spool = "\(store.root)/ingest/spool-\(UUID().uuidString)"
        defer { unlink(spool) }
        let sink = try FileSink(creating: spool)
        try write(sink)
        try sink.finish()
        return try LayerWriter.importTarball(at: spool, into: store, compression: settings.streamCompression)
    }

    static func normalise(_ path: String) -> String {
        var path = Substring(path)
        while path.hasPrefix("./") { path = path.dropFirst(2) }
        return String(path)
    }
}
