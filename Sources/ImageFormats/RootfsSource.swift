import Archive
import Foundation
import OCI
import Store
import Support

/// How imported tarballs become layer blobs of the store.
public struct LayerImport: Sendable {
    public var compression: StreamCompression
    public var mediaType: String
    /// Tells cached imports made with other settings apart ("gzip:6").
    public var cacheTag: String

    public init(compression: StreamCompression, mediaType: String, cacheTag: String) {
        self.compression = compression
        self.mediaType = mediaType
        self.cacheTag = cacheTag
    }

    /// Spools a layer of unknown compression to a temporary file, then stores it recompressed
    /// with its diff_id computed.
    func spooled(into store: Store, _ write: (any ByteSink) throws -> Void) throws -> LayerDigests {
        let spool = "\(store.root)/ingest/spool-\(UUID().uuidString)"
        defer { unlink(spool) }
        let sink = try FileSink(creating: spool)
        try write(sink)
        try sink.finish()
        return try LayerWriter.importTarball(at: spool, into: store, compression: compression)
    }
}

/// `rootfs:FILE.tar[.gz|.xz|.zst]`: a root file system tarball as a one-layer image, as
/// `docker import` makes one. The layer is cached by the file's identity, so the next build
/// does not recompress it.
public struct RootfsSource: ImageSource {
    public let file: String
    public let layer: LayerImport
    /// The image's `created` time and the history entry's.
    public let created: String
    /// Gets the uncompressed bytes read so far; never called when the layer cache has the import.
    public let progress: (@Sendable (Int64) -> Void)?

    public init(file: String, layer: LayerImport, created: String, progress: (@Sendable (Int64) -> Void)? = nil) {
        self.file = file
        self.layer = layer
        self.created = created
        self.progress = progress
    }

    public func importImage(into store: Store, platform: Platform) throws -> SourcedImage {
        let key = "rootfs-" + SHA256Hex.of("rootfs-v3\n\(file)\n\(try identity())\n\(layer.cacheTag)")
        let cached: CachedLayer
        if let found = store.cachedLayer(key: key) {
            cached = found
        } else {
            cached = CachedLayer(try LayerWriter.importTarball(at: file, into: store, compression: layer.compression, progress: progress))
            try store.rememberLayer(cached, key: key)
        }
        var config = ImageConfig(platform: platform, created: created)
        var container = ContainerConfig()
        container.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        config.config = container
        config.rootfs = RootFS(diffIDs: [cached.diffID])
        config.history = [History(created: created, createdBy: "spark-image-tool import rootfs:\((file as NSString).lastPathComponent)")]
        return SourcedImage(config: config, layers: [Descriptor(mediaType: layer.mediaType, digest: cached.digest, size: cached.size)],
                            description: "rootfs:\(file)")
    }

    /// Changes whenever the file's content may have (device, inode, size, mtime, ctime).
    private func identity() throws -> String {
        var info = stat()
        guard stat(file, &info) == 0 else { throw ImageFormatError("rootfs:\(file): \(errnoDescription())") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw ImageFormatError("rootfs:\(file) is not a regular file") }
        return fileIdentity(info)
    }
}
