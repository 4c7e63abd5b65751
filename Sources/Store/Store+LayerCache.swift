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

/// Facts derived from a layer blob, worth keeping so they need not be derived again.
public enum CacheKind: String, Sendable, CaseIterable {
    /// Input key → CachedLayer.
    case layers
    /// Layer digest → the directories (and symlinks) the layer holds.
    case directories
    /// Layer digest → the paths of everything but directories the layer holds.
    case files
    /// Blob digest → registry/repository names known to hold it, for cross-repository mounts.
    case origins
    /// Docker daemon → whether it needs full archives (its image store refused a delta).
    case daemons
    /// Image ID in a daemon → the manifest of the stored image whose file tree it holds.
    case loaded
}

extension Store {
    /// The cached layer for `key`, if its blob is still in the store.
    public func cachedLayer(key: String) -> CachedLayer? {
        guard let layer = cached(CachedLayer.self, .layers, key: key), hasBlob(layer.digest) else { return nil }
        return layer
    }

    public func rememberLayer(_ layer: CachedLayer, key: String) throws(StoreError) {
        try remember(layer, .layers, key: key)
    }

    public func cached<T: Decodable>(_ type: T.Type, _ kind: CacheKind, key: String) -> T? {
        guard let data = FileManager.default.contents(atPath: cachePath(kind, key)) else { return nil }
        return try? CanonicalJSON.decode(type, from: data)
    }

    public func isCached(_ kind: CacheKind, key: String) -> Bool {
        FileManager.default.fileExists(atPath: cachePath(kind, key))
    }

    public func remember<T: Encodable>(_ value: T, _ kind: CacheKind, key: String) throws(StoreError) {
        let path = cachePath(kind, key)
        do {
            try FileManager.default.createDirectory(atPath: "\(root)/cache/\(kind.rawValue)", withIntermediateDirectories: true)
            try writeAtomically(CanonicalJSON.encode(value), to: path)
        } catch let error as StoreError {
            throw error
        } catch { throw .io(path, "\(error)") }
    }

    /// Drops cache entries whose blobs are gone.
    func pruneCaches() {
        for kind in CacheKind.allCases {
            let dir = "\(root)/cache/\(kind.rawValue)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".json") {
                let key = String(name.dropLast(5))
                let stale = switch kind {
                case .layers: cachedLayer(key: key) == nil
                case .directories, .files, .origins: (try? Digest(parsing: "sha256:\(key)")).map(hasBlob) != true
                case .daemons, .loaded: false
                }
                if stale { unlink("\(dir)/\(name)") }
            }
        }
    }

    private func cachePath(_ kind: CacheKind, _ key: String) -> String { "\(root)/cache/\(kind.rawValue)/\(key).json" }
}
