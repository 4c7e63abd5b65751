import Archive
import Foundation
import OCI
import Store

/// The JSON files of an image archive, read in a first pass; blobs are streamed in a second.
struct ArchiveContents {
    /// Indexes, manifests and configs are small; a larger file is a layer (containerd's limit).
    static let smallFileLimit: Int64 = 4 << 20

    let file: String
    let smallFiles: [String: [UInt8]]

    init(file: String) throws {
        self.file = file
        let reader = try Self.open(file)
        var files: [String: [UInt8]] = [:]
        while let entry = try reader.next() {
            if case .file(let size) = entry.kind, size <= Self.smallFileLimit { files[Self.normalise(entry.path)] = try reader.readAll() }
        }
        smallFiles = files
    }

    var blobs: VerifiedBlobs {
        VerifiedBlobs(origin: file) { digest in smallFiles[Store.archivePath(digest)] }
    }

    /// Streams the `wanted` blobs the store lacks out of the archive, each checked on the way in.
    func streamBlobs(_ wanted: [Digest], into store: Store, progress: ReadProgress) throws {
        var missing = Set(wanted.filter { !store.hasBlob($0) })
        guard !missing.isEmpty else { return }
        let reader = try Self.open(file)
        while let entry = try reader.next(), !missing.isEmpty {
            let path = Self.normalise(entry.path)
            guard let digest = missing.first(where: { Store.archivePath($0) == path }) else { continue }
            try store.ingest(expected: digest, source: "\(file):\(path)") { sink in
                try reader.readData { chunk in
                    try sink.write(chunk)
                    progress.add(chunk.count)
                }
            }
            missing.remove(digest)
        }
        if let digest = missing.first { throw ImageFormatError("\(file) lacks the blob \(digest) that its manifest lists; the archive is incomplete") }
    }

    /// Stores a small blob (a config) from the first pass, checked against its digest.
    func storeSmallBlob(_ digest: Digest, into store: Store) throws {
        let bytes = try blobs.read(digest)
        try store.ingest(expected: digest, source: "\(file):\(Store.archivePath(digest))") { try $0.write(bytes) }
    }

    static func open(_ file: String) throws -> TarReader {
        guard FileManager.default.fileExists(atPath: file) else { throw ImageFormatError("base archive \(file) does not exist") }
        return try TarReader(path: file)
    }

    static func normalise(_ path: String) -> String {
        var path = Substring(path)
        while path.hasPrefix("./") { path = path.dropFirst(2) }
        return String(path)
    }
}

/// `oci-archive:FILE[:tag]`: an OCI image layout in a tar (skopeo's and buildah's format).
public struct OCIArchiveSource: ImageSource {
    public let file: String
    public let tag: String?
    /// Gets the layer bytes read so far.
    public let progress: (@Sendable (Int64) -> Void)?

    public init(file: String, tag: String?, progress: (@Sendable (Int64) -> Void)? = nil) {
        self.file = file
        self.tag = tag
        self.progress = progress
    }

    public func importImage(into store: Store, platform: Platform) throws -> SourcedImage {
        let archive = try ArchiveContents(file: file)
        guard let indexBytes = archive.smallFiles["index.json"], let index = try? CanonicalJSON.decode(ImageIndex.self, from: indexBytes) else {
            throw ImageFormatError("\(file) is not an OCI archive: it has no readable index.json", hint: "for a `docker save` file use docker-archive:\(file)")
        }
        let (manifest, config) = try archive.blobs.image(try pick(from: index, tag: tag, origin: "oci-archive:\(file)"), platform: platform)
        try archive.streamBlobs(manifest.layers.map(\.digest), into: store, progress: ReadProgress(progress))
        try archive.storeSmallBlob(manifest.config.digest, into: store)
        return SourcedImage(config: config, layers: manifest.layers, description: "oci-archive:\(file)")
    }
}

/// `docker-archive:FILE`: what `docker save` writes. Layers may be plain tars (older docker)
/// or compressed blobs (newer); they are stored in `layers`' compression, each checked
/// against its diff_id.
public struct DockerArchiveSource: ImageSource {
    public let file: String
    public let layers: LayerImport
    /// Gets the layer bytes read so far.
    public let progress: (@Sendable (Int64) -> Void)?

    public init(file: String, layers: LayerImport, progress: (@Sendable (Int64) -> Void)? = nil) {
        self.file = file
        self.layers = layers
        self.progress = progress
    }

    public func importImage(into store: Store, platform: Platform) throws -> SourcedImage {
        let archive = try ArchiveContents(file: file)
        guard let manifestBytes = archive.smallFiles["manifest.json"],
              let entries = try? CanonicalJSON.decode([DockerArchiveManifest].self, from: manifestBytes), let entry = entries.first else {
            throw ImageFormatError("\(file) is not a docker-archive: it has no readable manifest.json", hint: "create it with `docker save IMAGE -o \(file)`")
        }
        guard let configBytes = archive.smallFiles[ArchiveContents.normalise(entry.config)],
              let config = try? CanonicalJSON.decode(ImageConfig.self, from: configBytes) else {
            throw ImageFormatError("\(file): the image config \(entry.config) is missing or not valid JSON")
        }
        guard config.rootfs.diffIDs.count == entry.layers.count else {
            throw ImageFormatError("\(file): manifest.json lists \(entry.layers.count) layers but the config has \(config.rootfs.diffIDs.count) diff_ids")
        }
        let descriptors = try importLayers(paths: entry.layers.map(ArchiveContents.normalise), diffIDs: config.rootfs.diffIDs, store: store)
        return SourcedImage(config: config, layers: descriptors, description: "docker-archive:\(file)")
    }

    private func importLayers(paths: [String], diffIDs: [Digest], store: Store) throws -> [Descriptor] {
        var found: [String: Descriptor] = [:]
        let read = ReadProgress(progress)
        let reader = try ArchiveContents.open(file)
        while let entry = try reader.next() {
            let path = ArchiveContents.normalise(entry.path)
            guard let position = paths.firstIndex(of: path), found[path] == nil else { continue }
            let digests = try layers.spooled(into: store) { sink in
                try reader.readData { chunk in
                    try sink.write(chunk)
                    read.add(chunk.count)
                }
            }
            guard digests.diffIDHex == diffIDs[position].encoded else {
                throw ImageFormatError("\(file): layer \(path) does not match its diff_id \(diffIDs[position]) (got sha256:\(digests.diffIDHex)); the archive is corrupt")
            }
            found[path] = Descriptor(mediaType: layers.mediaType, digest: Digest(sha256Hex: digests.digestHex), size: digests.compressedSize)
        }
        return try paths.map { path in
            guard let descriptor = found[path] else { throw ImageFormatError("\(file): layer \(path) listed in manifest.json is missing from the archive") }
            return descriptor
        }
    }
}
