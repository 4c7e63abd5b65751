import Foundation
import OCI
import Registry
import Store
import Support

/// OCI 1.1 referrers: artifacts (an SBOM) attached to an image manifest through `subject`, listed
/// by the registry's referrers API or, where it has none (Docker's registry 2.8), by the tag
/// schema: an index under the tag `sha256-<hex of the subject>` that the client keeps up to date.
public struct Referrers: Sendable {
    public let session: RegistrySession

    public init(session: RegistrySession) { self.session = session }

    /// The largest artifact document fetched into memory (Spark 4.3.0 spark-py SBOM is about 370 kB).
    static let documentLimit: Int64 = 64 << 20

    /// Pushes `document` as an artifact of `artifactType` whose subject is `subject`, in the
    /// repository of `reference`; returns the artifact manifest's digest.
    @discardableResult
    public func attach(_ document: [UInt8], artifactType: String, to subject: Descriptor, in reference: ImageReference) throws -> Digest {
        let store = session.store, client = session.client(for: reference.registry), repository = reference.repository
        let empty = try store.putBlob(Array("{}".utf8))
        let layer = try store.putBlob(document)
        let pusher = Pusher(session: session)
        for (digest, size) in [(empty, Int64(2)), (layer, Int64(document.count))] {
            _ = try pusher.pushBlob(digest: digest, size: size, client: client, repository: repository)
        }
        var manifest = ImageManifest(mediaType: MediaType.ociManifest, config: Descriptor(mediaType: MediaType.ociEmpty, digest: empty, size: 2),
                                     layers: [Descriptor(mediaType: artifactType, digest: layer, size: Int64(document.count))])
        manifest.artifactType = artifactType
        manifest.subject = Descriptor(mediaType: subject.mediaType, digest: subject.digest, size: subject.size)
        let bytes = try CanonicalJSON.encode(manifest)
        var descriptor = Descriptor(mediaType: MediaType.ociManifest, digest: Digest(sha256Hex: SHA256Hex.of(bytes)), size: Int64(bytes.count))
        descriptor.artifactType = artifactType
        if try !client.putReferrer(bytes, mediaType: MediaType.ociManifest, repository: repository, digest: descriptor.digest) {
            try addToTagSchema(descriptor, subject: subject.digest, client: client, repository: repository)
        }
        session.events(.manifestPushed(reference: "\(reference.name)@\(descriptor.digest) (\(artifactType) for \(subject.digest))",
                                       digest: descriptor.digest))
        return descriptor.digest
    }

    /// The artifacts whose subject is `subject`: from the referrers API, else the tag schema.
    public func list(_ subject: Digest, in reference: ImageReference) throws -> [Descriptor] {
        let client = session.client(for: reference.registry)
        if let index = try client.referrers(of: subject, repository: reference.repository) { return index.manifests }
        return try tagSchemaIndex(subject, client: client, repository: reference.repository)?.manifests ?? []
    }

    /// The single layer of artifact manifest `digest`, verified against the digests on the way.
    public func fetchArtifact(_ digest: Digest, in reference: ImageReference) throws -> [UInt8] {
        let client = session.client(for: reference.registry), repository = reference.repository
        let fetched = try client.manifest(digest.description, repository: repository)
        guard fetched.digest == digest, let layer = try CanonicalJSON.decode(ImageManifest.self, from: fetched.bytes).layers.first else {
            throw RegistryError("\(reference.name)@\(digest) is not an artifact manifest with a layer", hint: "list the referrers again; it may have been replaced")
        }
        guard layer.size <= Self.documentLimit else {
            throw RegistryError("\(reference.name)@\(digest): its document \(layer.digest) is \(layer.size) bytes, more than the \(Self.documentLimit) an SBOM may have")
        }
        try session.store.ingest(expected: layer.digest, source: "\(reference.name)@\(layer.digest)") { sink in
            let writer = UncheckedSink(sink)
            try client.downloadBlob(layer.digest, size: layer.size, repository: repository) { try writer.sink.write($0) }
        }
        return try session.store.readBlob(layer.digest)
    }

    /// The tag-schema index, or nil when the tag does not exist.
    private func tagSchemaIndex(_ subject: Digest, client: RegistryClient, repository: String) throws -> ImageIndex? {
        let fetched: FetchedManifest
        do { fetched = try client.manifest(RegistryClient.referrersTag(subject), repository: repository) } catch let error as RegistryError where error.status == 404 {
            return nil
        }
        do { return try CanonicalJSON.decode(ImageIndex.self, from: fetched.bytes) } catch {
            throw RegistryError("\(repository):\(RegistryClient.referrersTag(subject)) is not an image index, so it cannot list referrers: \(error)",
                                hint: "delete that tag, or push to a registry with the referrers API")
        }
    }

    /// Adds `descriptor` to the tag-schema index of `subject` (read, add, put: the spec's way; a
    /// concurrent writer can lose an entry, which pushing again restores).
    private func addToTagSchema(_ descriptor: Descriptor, subject: Digest, client: RegistryClient, repository: String) throws {
        var index = try tagSchemaIndex(subject, client: client, repository: repository) ?? ImageIndex(manifests: [])
        index.manifests.removeAll { $0.digest == descriptor.digest }
        index.manifests.append(descriptor)
        try client.putManifest(CanonicalJSON.encode(index), mediaType: MediaType.ociIndex, repository: repository,
                               reference: RegistryClient.referrersTag(subject))
    }
}
