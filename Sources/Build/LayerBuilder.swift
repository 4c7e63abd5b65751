import Archive
import Crypto
import ImageFormats
import OCI
import Store

/// How layers are written: compression, timestamps and whether the layer cache may answer.
public struct LayerSettings: Sendable {
    public var compression: LayerCompression
    /// gzip 1–9 or zstd 1–19.
    public var level: Int32
    /// Deflate jars and other archives too (about 7 % smaller, many times the CPU).
    public var compressArchives: Bool
    /// The mtime of every entry and the `created` time of the image (SOURCE_DATE_EPOCH).
    public var epoch: Int64
    public var useCache: Bool
    /// COPYs of more bytes than this are cut into several layers (LayerSplitter); nil: never.
    public var splitThreshold: Int64?

    public init(compression: LayerCompression = .gzip, level: Int32? = nil, compressArchives: Bool = false, epoch: Int64 = 0,
                useCache: Bool = true, splitThreshold: Int64? = 64 << 20) {
        self.splitThreshold = splitThreshold
        self.compression = compression
        self.level = level ?? (compression == .zstd ? 3 : 6)
        self.compressArchives = compressArchives
        self.epoch = epoch
        self.useCache = useCache
    }

    var streamCompression: StreamCompression {
        switch compression {
        case .none: .none
        case .gzip: .gzip(level: level, storeArchives: !compressArchives)
        case .zstd: .zstd(level: level, storeArchives: !compressArchives)
        }
    }

    /// The OCI media type of the layers these settings write (the manifest maps the family).
    var layerMediaType: String { ManifestFormat.oci.layerMediaType(for: compression) }

    /// How base image tarballs (rootfs, docker-archive) are stored with these settings.
    var layerImport: LayerImport {
        LayerImport(compression: streamCompression, mediaType: layerMediaType, cacheTag: "\(compression.rawValue):\(level)")
    }
}

/// A layer in the store: its blob, its diff_id and whether the cache supplied it.
struct BuiltLayer: Sendable {
    var layer: CachedLayer
    var cached: Bool
}

/// Writes planned entries as one deterministic layer blob, or finds it in the layer cache.
struct LayerBuilder: Sendable {
    let store: Store
    let settings: LayerSettings
    let events: BuildEventHandler
    /// Layers this build made; they answer even when the store's cache may not (`-n`).
    var prebuilt: PrebuiltLayers?
    /// A prebuild's: true once the RUN it overlaps is over, and no new layer should start.
    var isCancelled: @Sendable () -> Bool = { false }

    func build(_ entries: [LayerEntry], description: String, id: Int) throws -> BuiltLayer {
        guard !isCancelled() else { throw CancellationError() }
        let key = cacheKey(entries)
        let totalBytes = entries.reduce(Int64(0)) { $0 + $1.item.sizeInLayer }
        events(.layerStarted(id: id, description: description, totalBytes: totalBytes))
        if let cached = prebuilt?.layer(forKey: key) ?? (settings.useCache ? store.cachedLayer(key: key) : nil) {
            events(.layerFinished(id: id, digest: cached.digest, size: cached.size, cached: true))
            return BuiltLayer(layer: cached, cached: true)
        }
        var digests: LayerDigests?
        _ = try store.ingest { path in
            let writer = try LayerWriter(outputPath: path, compression: settings.streamCompression)
            var written: Int64 = 0
            writer.tar.onBytes = { count in
                written += count
                events(.layerProgress(id: id, bytes: written))
            }
            try write(entries, to: writer)
            digests = try writer.finish()
            return Digest(sha256Hex: digests!.digestHex)
        }
        let layer = CachedLayer(digests!)
        try store.rememberLayer(layer, key: key)
        prebuilt?.add(layer, key: key)
        events(.layerFinished(id: id, digest: layer.digest, size: layer.size, cached: false))
        return BuiltLayer(layer: layer, cached: false)
    }

    private func write(_ entries: [LayerEntry], to writer: LayerWriter) throws {
        var firstPathOfInode: [String: String] = [:]
        for entry in entries {
            let item = entry.item
            var kind: TarEntry.Kind
            switch item.kind {
            case .directory: kind = .directory
            case .file(let size): kind = .file(size: size)
            case .symlink(let target): kind = .symlink(target: target)
            }
            var contents = item.contents
            if let key = item.hardlinkKey {
                if let first = firstPathOfInode[key] {
                    kind = .hardlink(target: first)
                    contents = .none
                } else {
                    firstPathOfInode[key] = entry.imagePath
                }
            }
            try writer.append(TarEntry(path: entry.imagePath, kind: kind, mode: item.mode, uid: item.uid, gid: item.gid,
                                       mtime: settings.epoch), contents: contents)
        }
    }

    /// Everything that decides the layer's bytes, with file content stood for by its identity
    /// (device, inode, size, mtime, ctime), so an unchanged COPY is found without reading files.
    private func cacheKey(_ entries: [LayerEntry]) -> String {
        var hasher = SHA256()
        let header = "layer-v3\n\(settings.compression.rawValue):\(settings.level):\(settings.compressArchives)\n\(settings.epoch)\n"
        hasher.update(data: Array(header.utf8))
        for entry in entries {
            let item = entry.item
            let line = "\(entry.imagePath)\t\(item.kind)\t\(item.mode)\t\(item.uid)\t\(item.gid)\t\(item.identity)\t\(item.hardlinkKey ?? "")\n"
            hasher.update(data: Array(line.utf8))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

extension SourceItem {
    var sizeInLayer: Int64 {
        if case .file(let size) = kind { return size }
        return 0
    }
}

extension LayerBuilder {
    static func hash(_ text: String) -> String { hash(Array(text.utf8)) }

    static func hash(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
