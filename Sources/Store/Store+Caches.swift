import Archive
import Foundation
import OCI

/// A layer built before, found again by a key over its inputs (file metadata and instruction),
/// so an unchanged COPY reuses its blob without reading a file.
public struct CachedLayer: Codable, Sendable, Equatable {
    public var digest: Digest
    public var size: Int64
    public var diffID: Digest
    public var uncompressedSize: Int64

    public init(digest: Digest, size: Int64, diffID: Digest, uncompressedSize: Int64) {
        self.digest = digest
        self.size = size
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
    }
}

extension CachedLayer {
    /// The store's record of a layer blob just written.
    public init(_ digests: LayerDigests) {
        self.init(digest: Digest(sha256Hex: digests.digestHex), size: digests.compressedSize,
                  diffID: Digest(sha256Hex: digests.diffIDHex), uncompressedSize: digests.uncompressedSize)
    }
}

/// One kind of cached fact, owned by the module that declares it (the store knows content, not
/// daemons or registries). Values are JSON files under `cache/`.
public struct CacheShelf<Value: Codable>: Sendable {
    public enum Lifetime: Sendable {
        /// Keyed by a blob's hex digest; `gc` drops the entry once the blob is gone.
        case whileBlobExists
        /// Kept until the store is removed (facts about daemons, say).
        case kept
    }

    public let name: String
    public let lifetime: Lifetime

    public init(_ name: String, lifetime: Lifetime) {
        self.name = name
        self.lifetime = lifetime
    }

    var directory: String {
        switch lifetime {
        case .whileBlobExists: "by-blob/\(name)"
        case .kept: "kept/\(name)"
        }
    }
}

extension Store {
    /// Input key → CachedLayer.
    private static let layers = CacheShelf<CachedLayer>("layers", lifetime: .kept)

    /// The cached layer for `key`, if its blob is still in the store.
    public func cachedLayer(key: String) -> CachedLayer? {
        guard let layer = cached(Self.layers, key: key), hasBlob(layer.digest) else { return nil }
        return layer
    }

    public func rememberLayer(_ layer: CachedLayer, key: String) throws(StoreError) {
        try remember(layer, on: Self.layers, key: key)
    }

    public func cached<Value>(_ shelf: CacheShelf<Value>, key: String) -> Value? {
        guard let data = FileManager.default.contents(atPath: cachePath(shelf.directory, key)) else { return nil }
        return try? CanonicalJSON.decode(Value.self, from: data)
    }

    public func isCached<Value>(_ shelf: CacheShelf<Value>, key: String) -> Bool {
        FileManager.default.fileExists(atPath: cachePath(shelf.directory, key))
    }

    public func remember<Value>(_ value: Value, on shelf: CacheShelf<Value>, key: String) throws(StoreError) {
        let path = cachePath(shelf.directory, key)
        do {
            try FileManager.default.createDirectory(atPath: "\(root)/cache/\(shelf.directory)", withIntermediateDirectories: true)
            try writeAtomically(CanonicalJSON.encode(value), to: path)
        } catch let error as StoreError {
            throw error
        } catch { throw .io(path, "\(error)") }
    }

    /// Drops cached layers whose blobs are gone, and every blob-keyed entry of a blob that is gone.
    func pruneCaches() {
        forEachCacheEntry(in: Self.layers.directory) { key in cachedLayer(key: key) == nil }
        let byBlob = "\(root)/cache/by-blob"
        for shelf in (try? FileManager.default.contentsOfDirectory(atPath: byBlob)) ?? [] {
            forEachCacheEntry(in: "by-blob/\(shelf)") { key in (try? Digest(parsing: "sha256:\(key)")).map(hasBlob) != true }
        }
    }

    private func forEachCacheEntry(in directory: String, removeWhen stale: (String) -> Bool) {
        let dir = "\(root)/cache/\(directory)"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".json") {
            if stale(String(name.dropLast(5))) { unlink("\(dir)/\(name)") }
        }
    }

    private func cachePath(_ directory: String, _ key: String) -> String { "\(root)/cache/\(directory)/\(key).json" }
}
