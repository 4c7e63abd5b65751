import Archive
import ImageFormats
import OCI
import Store
import Support

/// The docker-archive a preload sends: manifest.json, each image's config, and the layers. A gzip
/// layer whose tar is at most a quarter bigger than its blob (jars, already compressed) or at most
/// 1 MiB goes as that tar, inflated here (ISA-L) while it streams, so the daemon starts no `unpigz`
/// for it (about 50 ms each for the small layers); one that compresses well (a base's root file
/// system) goes as it is stored, since the extra bytes
/// cost the daemon more to unpack and read back than the inflate saves (docs/layer-split.md has the
/// figures). diff_ids name the uncompressed tars, so either way the daemon registers the same
/// layers and reports the same image ID. Layers in `omitting` are listed but left out: the daemon
/// holds their chains (a delta).
struct DaemonArchive: Sendable {
    /// Blob digest → the size of its uncompressed tar, which a tar header needs before the bytes.
    static let uncompressedSizes = CacheShelf<Int64>("preload-uncompressed-sizes", lifetime: .whileBlobExists)

    struct Layer: Sendable {
        let blob: Descriptor
        let name: String
        let inflated: Bool
    }

    let store: Store
    let images: [(reference: ImageReference, image: StoredImage)]

    /// `beforeEnd` runs before the end-of-archive blocks: the daemon takes the archive as whole,
    /// and registers its layers, only once they arrive.
    func write(omitting: Set<Digest>, into sink: any ByteSink, beforeEnd: () throws -> Void = {}) throws {
        let gzipBlobs = Set(images.flatMap(\.image.manifest.layers).filter {
            LayerCompression(mediaType: $0.mediaType) == .gzip && !omitting.contains($0.digest)
        }.map(\.digest))
        let sizes = try Self.uncompressedSizes(of: gzipBlobs.sorted(), in: store)
        var manifests: [DockerArchiveManifest] = []
        var layers: [String: Layer] = [:]
        for (reference, image) in images {
            let imageLayers = zip(image.manifest.layers, image.config.rootfs.diffIDs).map { blob, diffID in
                let inflated = sizes[blob.digest].map { Self.sentInflated(tar: $0, blob: blob.size) } ?? false
                return Layer(blob: blob, name: inflated ? "\(diffID.encoded)/layer.tar" : Store.archivePath(blob.digest), inflated: inflated)
            }
            for layer in imageLayers where !omitting.contains(layer.blob.digest) { layers[layer.name] = layer }
            manifests.append(DockerArchiveManifest(config: "\(image.manifest.config.digest.encoded).json",
                                                   repoTags: [reference.familiarDescription], layers: imageLayers.map(\.name)))
        }
        let toSend = layers.values.sorted { $0.name < $1.name }
        let tar = try TarWriter(sink: sink)
        try append("manifest.json", try CanonicalJSON.encode(manifests), to: tar)
        for config in Set(images.map(\.image.manifest.config.digest)).sorted() {
            try append("\(config.encoded).json", try store.readBlob(config), to: tar)
        }
        for layer in toSend {
            let path = store.blobPath(layer.blob.digest)
            guard layer.inflated, let size = sizes[layer.blob.digest] else {
                try tar.append(TarEntry(path: layer.name, kind: .file(size: try store.blobSize(layer.blob.digest)), mode: 0o644),
                               contents: .file(path: path))
                continue
            }
            try tar.append(TarEntry(path: layer.name, kind: .file(size: size), mode: 0o644)) { write in
                try Self.inflate(path, of: layer.blob.digest, size: size, into: write)
            }
        }
        try beforeEnd()
        try tar.finish()
    }

    static func sentInflated(tar: Int64, blob: Int64) -> Bool {
        tar <= blob + blob / 4 || tar <= 1 << 20
    }

    /// Streams the gzip blob at `path` as its tar, which must be `size` bytes long.
    static func inflate(_ path: String, of digest: Digest, size: Int64, into write: (UnsafeRawBufferPointer) throws -> Void) throws {
        var written: Int64 = 0
        try GzipFileReader(path: path).forEachChunk { chunk in
            written += Int64(chunk.count)
            guard written <= size else { return }
            try write(chunk)
        }
        guard written == size else {
            throw PreloadError("layer \(digest) inflates to \(written) bytes, not the \(size) recorded for it",
                               hint: "run `spark-image-tool verify`, then preload again")
        }
    }

    private func append(_ name: String, _ bytes: [UInt8], to tar: TarWriter) throws {
        try tar.append(TarEntry(path: name, kind: .file(size: Int64(bytes.count)), mode: 0o644), contents: .bytes(bytes))
    }

    /// Each blob's uncompressed size, from the shelf or by inflating it once (two at a time).
    static func uncompressedSizes(of digests: [Digest], in store: Store) throws -> [Digest: Int64] {
        let missing = digests.filter { store.cached(Self.uncompressedSizes, key: $0.encoded) == nil }
        try concurrently(missing, width: 2) { digest in
            var size: Int64 = 0
            try GzipFileReader(path: store.blobPath(digest)).forEachChunk { size += Int64($0.count) }
            try store.remember(size, on: Self.uncompressedSizes, key: digest.encoded)
        }
        return Dictionary(uniqueKeysWithValues: digests.compactMap { digest in
            store.cached(Self.uncompressedSizes, key: digest.encoded).map { (digest, $0) }
        })
    }
}
