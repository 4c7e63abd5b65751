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

extension Store {
    /// The cached layer for `key`, if its blob is still in the store.
    public func cachedLayer(key: String) -> CachedLayer? {
        guard let data = FileManager.default.contents(atPath: cachePath(key)),
              let layer = try? CanonicalJSON.decode(CachedLayer.self, from: data),
              hasBlob(layer.digest) else { return nil }
        return layer
    }

    public func rememberLayer(_ layer: CachedLayer, key: String) throws(StoreError) {
        do { try writeAtomically(CanonicalJSON.encode(layer), to: cachePath(key)) } catch let error as StoreError {
            throw error
        } catch { throw .io(cachePath(key), "\(error)") }
    }

    func pruneLayerCache() {
        let dir = "\(root)/cache/layers"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".json") {
            if cachedLayer(key: String(name.dropLast(5))) == nil { unlink("\(dir)/\(name)") }
        }
    }

    private func cachePath(_ key: String) -> String { "\(root)/cache/layers/\(key).json" }
}
