import OCI

/// A single-platform image as stored: its manifest, config and where they live.
public struct StoredImage: Sendable {
    public var manifestDescriptor: Descriptor
    public var manifest: ImageManifest
    public var config: ImageConfig

    public var contentSize: Int64 { ([manifest.config] + manifest.layers).totalSize }
}

extension Store {
    /// The image a descriptor names; for an index, the manifest for `platform`.
    public func image(_ descriptor: Descriptor, platform: Platform = .host) throws(StoreError) -> StoredImage {
        if MediaType.isIndex(descriptor.mediaType) {
            let index = try readJSON(ImageIndex.self, descriptor.digest)
            guard let entry = index.manifests.first(where: { $0.platform.map(platform.matches) ?? false }) else {
                let available = index.manifests.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw .notFound("for platform \(platform) (the index has: \(available))")
            }
            return try image(entry, platform: platform)
        }
        let manifest = try readJSON(ImageManifest.self, descriptor.digest)
        let config = try readJSON(ImageConfig.self, manifest.config.digest)
        return StoredImage(manifestDescriptor: descriptor, manifest: manifest, config: config)
    }

    public func image(_ reference: ImageReference, platform: Platform = .host) throws(StoreError) -> StoredImage {
        guard let descriptor = try resolve(reference) else { throw .notFound(reference.description) }
        return try image(descriptor, platform: platform)
    }

    /// Every blob a descriptor reaches: itself, and for manifests and indexes what they reference.
    public func reachableBlobs(from descriptor: Descriptor) throws(StoreError) -> [Descriptor] {
        var result = [descriptor]
        if MediaType.isIndex(descriptor.mediaType) {
            for entry in try readJSON(ImageIndex.self, descriptor.digest).manifests {
                result += try reachableBlobs(from: entry)
            }
        } else if MediaType.isManifest(descriptor.mediaType) {
            let manifest = try readJSON(ImageManifest.self, descriptor.digest)
            result += [manifest.config] + manifest.layers
        }
        return result
    }
}
