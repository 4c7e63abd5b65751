import Foundation
import OCI
import Registry
import Support

/// An index put into a registry: where, its descriptor and the platform manifests it lists.
public struct MergedIndex: Sendable {
    public var reference: ImageReference
    public var descriptor: Descriptor
    public var manifests: [Descriptor]
}

/// Merges images pushed by digest (one per platform, typically from separate CI jobs) into one
/// index under a tag. Each entry's size, media type and platform come from the registry, never
/// from the caller, and every manifest and config fetched is checked against its digest.
public struct IndexMerger: Sendable {
    public let session: RegistrySession

    public init(session: RegistrySession) { self.session = session }

    public func merge(_ sources: [ImageReference], into target: ImageReference) throws -> MergedIndex {
        let client = session.client(for: target.registry)
        var manifests: [Descriptor] = []
        for source in sources {
            for entry in try entries(of: source, client: client, target: target) {
                if let platform = entry.platform, manifests.contains(where: { $0.platform == platform }) {
                    throw RegistryError("index \(target): two sources are for \(platform) (the second is \(source))",
                                        hint: "give one --from per platform")
                }
                manifests.append(entry)
            }
        }
        let docker = manifests.allSatisfy { $0.mediaType == MediaType.dockerManifest }
        let index = ImageIndex(mediaType: docker ? MediaType.dockerManifestList : MediaType.ociIndex, manifests: manifests)
        let bytes = try CanonicalJSON.encode(index)
        let descriptor = Descriptor(mediaType: index.mediaType!, digest: Digest(sha256Hex: SHA256Hex.of(bytes)), size: Int64(bytes.count))
        let tagOrDigest = target.tag ?? descriptor.digest.description
        try client.putManifest(bytes, mediaType: descriptor.mediaType, repository: target.repository, reference: tagOrDigest)
        let served = try client.manifestDigest(tagOrDigest, repository: target.repository)
        guard served == descriptor.digest else {
            throw RegistryError("\(target) serves \(served.map(\.description) ?? "nothing") after the put, not \(descriptor.digest)",
                                hint: "something else pushed to this tag at the same time; run index create again", kind: .verification)
        }
        session.events(.manifestPushed(reference: target.familiarDescription, digest: descriptor.digest))
        return MergedIndex(reference: target, descriptor: descriptor, manifests: manifests)
    }

    /// The index entries one source contributes: itself with its config's platform, or the
    /// entries of an index. A source in another repository of the registry is mounted first.
    private func entries(of source: ImageReference, client: RegistryClient, target: ImageReference) throws -> [Descriptor] {
        guard let digest = source.digest else {
            throw RegistryError("index create: \(source) names no digest", hint: "give each --from as REPOSITORY@sha256:… (push --push-by-digest prints it)")
        }
        guard source.registry == target.registry else {
            throw RegistryError("index create: \(source) is on \(source.registry), the index on \(target.registry)",
                                hint: "push every platform to the registry that will hold the index")
        }
        let fetched = try client.manifest(digest.description, repository: source.repository)
        if MediaType.isIndex(fetched.mediaType) {
            guard source.repository == target.repository else {
                throw RegistryError("index create: \(source) is an index in another repository", hint: "push its platforms by digest to \(target.name)")
            }
            return try CanonicalJSON.decode(ImageIndex.self, from: fetched.bytes).manifests
        }
        guard MediaType.isManifest(fetched.mediaType) else {
            throw RegistryError("index create: \(source) is \(fetched.mediaType), not an image manifest or index")
        }
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: fetched.bytes)
        try RegistryClient.checkBlobs(config: manifest.config, layers: manifest.layers, of: source.description)
        if source.repository != target.repository {
            try copy(manifest, bytes: fetched.bytes, mediaType: fetched.mediaType, digest: digest, from: source.repository,
                     to: target.repository, client: client)
        }
        let config = try CanonicalJSON.decode(ImageConfig.self, from: try configBytes(manifest.config, repository: source.repository, client: client))
        return [Descriptor(mediaType: fetched.mediaType, digest: digest, size: Int64(fetched.bytes.count), platform: config.platform)]
    }

    /// Mounts the config and layers into the index's repository and puts the manifest there by digest.
    private func copy(_ manifest: ImageManifest, bytes: [UInt8], mediaType: String, digest: Digest, from source: String,
                      to repository: String, client: RegistryClient) throws {
        for blob in [manifest.config] + manifest.layers {
            if try client.blobExists(blob.digest, repository: repository, scopes: [RegistryClient.pushScope(repository)]) { continue }
            guard try client.mountBlob(blob.digest, into: repository, from: source).mounted else {
                throw RegistryError("index create: \(client.registry) would not mount \(blob.digest) from \(source) into \(repository)",
                                    hint: "push every platform by digest to \(repository) itself")
            }
        }
        try client.putManifest(bytes, mediaType: mediaType, repository: repository, reference: digest.description)
    }

    /// The config, bounded by its descriptor's size (checkBlobs keeps that small) and checked against its digest.
    private func configBytes(_ config: Descriptor, repository: String, client: RegistryClient) throws -> [UInt8] {
        let collected = Locked([UInt8]())
        try client.downloadBlob(config.digest, size: config.size, repository: repository) { chunk in
            collected.update { $0.append(contentsOf: chunk) }
        }
        let bytes = collected.value
        guard SHA256Hex.of(bytes) == config.digest.encoded else {
            throw RegistryError("\(client.registry) served config \(config.digest) in \(repository) with other content; refusing it", kind: .verification)
        }
        return bytes
    }
}
