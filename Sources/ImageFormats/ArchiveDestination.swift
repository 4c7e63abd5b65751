import Archive
import Foundation
import OCI
import Store
import Support

/// The archive formats images are written in (`save`, preload) and read from (`--base`).
public enum ArchiveFormat: String, CaseIterable, Sendable {
    /// An OCI image layout in a tar, as skopeo's `oci-archive:` reads it.
    case ociArchive = "oci-archive"
    /// What `docker load` reads: `manifest.json` next to the blobs. The archive is also a valid
    /// OCI layout, as Docker 25's own `docker save` output is.
    case dockerArchive = "docker-archive"
}

/// One image in a docker-archive's `manifest.json`.
public struct DockerArchiveManifest: Codable, Sendable {
    public var config: String
    public var repoTags: [String]?
    public var layers: [String]

    public init(config: String, repoTags: [String]?, layers: [String]) {
        self.config = config
        self.repoTags = repoTags
        self.layers = layers
    }

    enum CodingKeys: String, CodingKey {
        case config = "Config", repoTags = "RepoTags", layers = "Layers"
    }
}

/// Writes stored images as one archive: the writing half of the archive formats, whose reading
/// half is ArchiveSource.
public struct ArchiveDestination: Sendable {
    public let store: Store
    public let format: ArchiveFormat

    public init(store: Store, format: ArchiveFormat) {
        self.store = store
        self.format = format
    }

    /// Writes the named images into one archive at `path`. The file appears only when complete.
    public func write(_ references: [ImageReference], to path: String, platform: Platform = .host) throws(StoreError) {
        let temporary = "\(path).\(UUID().uuidString).partial"
        do {
            try write(references, into: try FileSink(creating: temporary), platform: platform)
            guard rename(temporary, path) == 0 else {
                throw StoreError.io(path, "cannot rename into place: \(errnoDescription())")
            }
        } catch {
            unlink(temporary)
            if let storeError = error as? StoreError { throw storeError }
            throw .io(path, "\(error)")
        }
    }

    /// Streams the archive into `sink`. `omitting` leaves those blobs' files out while
    /// manifest.json still lists them: Docker's classic image store does not open a layer file
    /// whose chain it already has, which makes this a delta load. `onePlatform` writes only
    /// `platform`'s manifest where a reference names an index (a docker-archive always does), so
    /// no manifest in the archive points at blobs left out of it: what containerd's import needs.
    public func write(_ references: [ImageReference], into sink: any ByteSink,
                      platform: Platform = .host, omitting: Set<Digest> = [], onePlatform: Bool = false) throws(StoreError) {
        var descriptors: [Descriptor] = []
        var blobs: [Digest: Descriptor] = [:]
        var dockerManifests: [DockerArchiveManifest] = []
        for reference in references {
            guard var descriptor = try store.resolve(reference) else { throw .notFound(reference.description) }
            if format == .dockerArchive || onePlatform {
                descriptor = try store.image(descriptor, platform: platform).manifestDescriptor
            }
            if format == .dockerArchive {
                let manifest = try store.readJSON(ImageManifest.self, descriptor.digest)
                dockerManifests.append(DockerArchiveManifest(
                    config: Store.archivePath(manifest.config.digest), repoTags: [reference.familiarDescription],
                    layers: manifest.layers.map { Store.archivePath($0.digest) }))
            }
            descriptors.append(Self.named(descriptor, reference.description))
            for blob in try store.reachableBlobs(from: descriptor) { blobs[blob.digest] = blob }
        }
        var metadata = try Self.layoutFiles(descriptors)
        if format == .dockerArchive {
            do { metadata.append(("manifest.json", try CanonicalJSON.encode(dockerManifests))) } catch {
                throw .io("archive", "cannot encode the archive's manifest.json: \(error)")
            }
        }
        try writeArchive(into: sink, metadata: metadata, blobs: blobs.keys.sorted().filter { !omitting.contains($0) })
    }

    /// Streams an OCI archive of `manifests` under names the caller picks (names that need not be
    /// in the store), holding the stored `blobs` and the `made` ones: a manifest or config made
    /// for this archive alone.
    public func writeOCIArchive(_ manifests: [(name: String, descriptor: Descriptor)], blobs: [Digest],
                                made: [Digest: [UInt8]] = [:], into sink: any ByteSink) throws(StoreError) {
        try writeArchive(into: sink, metadata: try Self.layoutFiles(manifests.map { Self.named($0.descriptor, $0.name) }),
                         blobs: blobs, made: made)
    }

    /// An OCI layout's `oci-layout` and `index.json` for these manifests.
    private static func layoutFiles(_ manifests: [Descriptor]) throws(StoreError) -> [(String, [UInt8])] {
        do {
            return [("oci-layout", try CanonicalJSON.encode(ImageLayoutMarker())),
                    ("index.json", try CanonicalJSON.encode(ImageIndex(manifests: manifests)))]
        } catch { throw .io("archive", "cannot encode the archive's index: \(error)") }
    }

    /// The descriptor under `name`, for OCI tools and for containerd's import.
    private static func named(_ descriptor: Descriptor, _ name: String) -> Descriptor {
        var named = descriptor
        named.annotations = [Annotation.refName: name, Annotation.containerdImageName: name]
        return named
    }

    private func writeArchive(into sink: any ByteSink, metadata: [(String, [UInt8])], blobs: [Digest],
                              made: [Digest: [UInt8]] = [:]) throws(StoreError) {
        do {
            let tar = try TarWriter(sink: sink)
            for (name, bytes) in metadata {
                try tar.append(TarEntry(path: name, kind: .file(size: Int64(bytes.count)), mode: 0o644), contents: .bytes(bytes))
            }
            for dir in ["blobs", "blobs/sha256"] { try tar.append(TarEntry(path: dir, kind: .directory, mode: 0o755)) }
            for (digest, bytes) in made.sorted(by: { $0.key < $1.key }) {
                try tar.append(TarEntry(path: Store.archivePath(digest), kind: .file(size: Int64(bytes.count)), mode: 0o644),
                               contents: .bytes(bytes))
            }
            for digest in blobs {
                guard store.hasBlob(digest) else { throw StoreError.missingBlob(digest) }
                try tar.append(TarEntry(path: Store.archivePath(digest), kind: .file(size: try store.blobSize(digest)), mode: 0o644),
                               contents: .file(path: store.blobPath(digest)))
            }
            try tar.finish()
        } catch let error as StoreError {
            throw error
        } catch {
            throw .io("archive", "\(error)")
        }
    }
}
