import Foundation
import OCI
import Registry
import Store
import Support

public struct PushResult: Sendable {
    public var references: [ImageReference]
    public var digest: Digest
    public var uploadedBlobs: Int
    public var uploadedBytes: Int64
    public var mountedBlobs: Int
    public var skippedBlobs: Int
    /// What happened to each config and layer, largest first.
    public var blobs: [PushedBlob]
}

/// One blob of a push and whether it was uploaded, mounted from another repository or already there.
public struct PushedBlob: Sendable, Equatable {
    public enum Outcome: String, Sendable { case skipped, mounted, uploaded }
    public var digest: Digest
    public var size: Int64
    public var outcome: Outcome
}

/// Pushes images from the store: blobs first (skipped when present, mounted when another
/// repository of the registry has them, else uploaded, several at once), then manifests under
/// every tag, then a check that each tag serves the digest we computed.
public struct Pusher: Sendable {
    public let session: RegistrySession
    /// Uploads a build started while it ran (`build --push`), waited for instead of repeated.
    public let ahead: PushAhead?

    public init(session: RegistrySession, ahead: PushAhead? = nil) {
        self.session = session
        self.ahead = ahead
    }

    public func push(_ source: ImageReference, to targets: [ImageReference]) throws -> [PushResult] {
        guard let descriptor = try session.store.resolve(source) else { throw StoreError.notFound(source.description) }
        let groups = Dictionary(grouping: targets) { $0.name }
        return try groups.keys.sorted().map { name in
            try push(descriptor, to: groups[name]!)
        }
    }

    private func push(_ descriptor: Descriptor, to targets: [ImageReference]) throws -> PushResult {
        let registry = targets[0].registry
        let repository = targets[0].repository
        let client = session.client(for: registry)
        _ = try client.base()
        let manifests = try manifestsToPush(descriptor)
        let blobs = try uniqueBlobs(of: manifests.map(\.manifest))
        let outcomes = Locked([Digest: PushedBlob.Outcome]())
        try concurrently(blobs, width: session.options.jobs) { blob in
            let outcome = try ahead?.outcome(of: blob.digest, registry: registry, repository: repository)
                ?? pushBlob(digest: blob.digest, size: blob.size, client: client, repository: repository)
            outcomes.update { $0[blob.digest] = outcome }
        }
        for child in manifests where child.descriptor != descriptor {
            try client.putManifest(try session.store.readBlob(child.descriptor.digest), mediaType: child.descriptor.mediaType,
                                   repository: repository, reference: child.descriptor.digest.description)
        }
        let bytes = try session.store.readBlob(descriptor.digest)
        for target in targets {
            try client.putManifest(bytes, mediaType: descriptor.mediaType, repository: repository, reference: target.tag ?? descriptor.digest.description)
            let served = try client.manifestDigest(target.tag ?? descriptor.digest.description, repository: repository)
            guard served == descriptor.digest else {
                throw RegistryError("\(target) serves \(served.map(\.description) ?? "nothing") after the push, not \(descriptor.digest)",
                                    hint: "something else pushed to this tag at the same time; push again", kind: .verification)
            }
            session.events(.manifestPushed(reference: target.familiarDescription, digest: descriptor.digest))
        }
        let done = outcomes.value
        let pushed = blobs.map { PushedBlob(digest: $0.digest, size: $0.size, outcome: done[$0.digest] ?? .skipped) }
        let uploaded = pushed.filter { $0.outcome == .uploaded }
        return PushResult(references: targets, digest: descriptor.digest, uploadedBlobs: uploaded.count,
                          uploadedBytes: uploaded.reduce(Int64(0)) { $0.addingSaturating($1.size) }, mountedBlobs: pushed.filter { $0.outcome == .mounted }.count,
                          skippedBlobs: pushed.filter { $0.outcome == .skipped }.count, blobs: pushed)
    }

    typealias BlobOutcome = PushedBlob.Outcome

    func pushBlob(digest: Digest, size: Int64, client: RegistryClient, repository: String) throws -> BlobOutcome {
        let registry = client.registry
        if try client.blobExists(digest, repository: repository, scopes: [RegistryClient.pushScope(repository)]) {
            session.remember(digest, in: registry, repository: repository)
            session.events(.blobSkipped(digest, size: size, reason: "already in \(repository)"))
            return .skipped
        }
        var uploadSession: String?
        for source in session.origins(of: digest, in: registry) where source != repository {
            let (mounted, location) = try client.mountBlob(digest, into: repository, from: source)
            if mounted {
                session.remember(digest, in: registry, repository: repository)
                session.events(.blobMounted(digest, size: size, from: source))
                return .mounted
            }
            uploadSession = location
            break
        }
        let started = Date()
        try client.uploadBlob(path: session.store.blobPath(digest), digest: digest, size: size,
                              repository: repository, session: uploadSession) { [session] bytes in
            session.events(.blobProgress(digest, bytes: bytes, size: size))
        }
        session.remember(digest, in: registry, repository: repository)
        session.events(.blobUploaded(digest, size: size, seconds: Date().timeIntervalSince(started)))
        return .uploaded
    }

    /// The manifest itself, or for an index each platform's manifest (pushed by digest first).
    private func manifestsToPush(_ descriptor: Descriptor) throws -> [(descriptor: Descriptor, manifest: ImageManifest)] {
        if MediaType.isIndex(descriptor.mediaType) {
            let index = try session.store.readJSON(ImageIndex.self, descriptor.digest)
            return try index.manifests.map { ($0, try session.store.readJSON(ImageManifest.self, $0.digest)) }
        }
        return [(descriptor, try session.store.readJSON(ImageManifest.self, descriptor.digest))]
    }

    /// Configs and layers, each once, largest first so the long uploads start early.
    private func uniqueBlobs(of manifests: [ImageManifest]) throws -> [Descriptor] {
        var seen = Set<Digest>()
        var blobs: [Descriptor] = []
        for manifest in manifests {
            for blob in [manifest.config] + manifest.layers where seen.insert(blob.digest).inserted {
                guard session.store.hasBlob(blob.digest) else { throw StoreError.missingBlob(blob.digest) }
                blobs.append(blob)
            }
        }
        return blobs.sorted { $0.size > $1.size }
    }
}
