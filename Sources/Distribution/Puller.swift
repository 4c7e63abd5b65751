import Archive
import Foundation
import OCI
import Registry
import Store
import Support

/// Pulls an image for one platform into the store: the manifest, the config and the layers
/// it lacks, each verified against its digest while it streams; nothing unverified is kept.
public struct Puller: ImageFetching {
    public let session: RegistrySession

    public init(session: RegistrySession) { self.session = session }

    /// Returns the platform manifest's descriptor, tagged in the store as `reference`.
    @discardableResult
    public func pull(_ reference: ImageReference, platform: Platform) throws -> Descriptor {
        // Docker Hub images come from the first mirror that has them, as dockerd's registry-mirrors.
        if reference.registry == ImageReference.dockerHub {
            for mirror in session.options.registryMirrors {
                do { return try pull(reference, from: session.client(for: Self.host(of: mirror)), platform: platform) } catch {
                    session.options.log?("mirror \(mirror) could not serve \(reference): \(error)")
                }
            }
        }
        return try pull(reference, from: session.client(for: reference.registry), platform: platform)
    }

    private func pull(_ reference: ImageReference, from client: RegistryClient, platform: Platform) throws -> Descriptor {
        let repository = reference.repository
        var fetched = try client.manifest(reference.digest?.description ?? reference.tag ?? "latest", repository: repository)
        if MediaType.isIndex(fetched.mediaType) {
            let index = try CanonicalJSON.decode(ImageIndex.self, from: fetched.bytes)
            guard let entry = index.manifests.first(where: { $0.platform.map(platform.matches) ?? false }) else {
                let available = index.manifests.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw RegistryError("\(reference) has no image for \(platform)", hint: "it has: \(available); choose one with --platform")
            }
            fetched = try client.manifest(entry.digest.description, repository: repository)
        }
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: fetched.bytes)
        try RegistryClient.checkBlobs(config: manifest.config, layers: manifest.layers, of: "\(reference)")
        let missing = ([manifest.config] + manifest.layers).filter { !session.store.hasBlob($0.digest) }
        try concurrently(missing, width: session.options.jobs) { blob in
            let started = Date()
            let received = Locked<Int64>(0)
            try session.store.ingest(expected: blob.digest, source: "\(reference.name)@\(blob.digest)") { sink in
                let writer = UncheckedSink(sink)
                try client.downloadBlob(blob.digest, size: blob.size, repository: repository) { chunk in
                    try writer.sink.write(chunk)
                    let bytes = received.update { total in total += Int64(chunk.count); return total }
                    session.events(.blobProgress(blob.digest, bytes: bytes, size: blob.size))
                }
            }
            session.events(.blobDownloaded(blob.digest, size: blob.size, seconds: Date().timeIntervalSince(started)))
        }
        for blob in [manifest.config] + manifest.layers { session.remember(blob.digest, in: client.registry, repository: repository) }
        let digest = try session.store.putBlob(fetched.bytes)
        let descriptor = Descriptor(mediaType: fetched.mediaType == MediaType.dockerManifest ? MediaType.dockerManifest : MediaType.ociManifest,
                                    digest: digest, size: Int64(fetched.bytes.count))
        try session.store.tag(descriptor, as: reference)
        return descriptor
    }
}

extension Puller {
    /// `https://mirror.example.com/` → `mirror.example.com`.
    static func host(of mirror: String) -> String {
        var host = Substring(mirror)
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host = host.dropFirst(scheme.count) }
        return String(host.split(separator: "/").first ?? host)
    }
}

/// Lets a sink that is used from one thread at a time cross into a Sendable closure.
struct UncheckedSink: @unchecked Sendable {
    let sink: any ByteSink
    init(_ sink: any ByteSink) { self.sink = sink }
}
