import Foundation
import HTTP
import OCI
import Registry
import Store
import Support
import Synchronization

/// Progress of pushes and pulls.
public enum TransferEvent: Sendable {
    case blobSkipped(Digest, size: Int64, reason: String)
    case blobMounted(Digest, size: Int64, from: String)
    case blobUploaded(Digest, size: Int64, seconds: Double)
    case blobDownloaded(Digest, size: Int64, seconds: Double)
    /// Bytes of a blob sent or received so far, for a progress bar.
    case blobProgress(Digest, bytes: Int64, size: Int64)
    case manifestPushed(reference: String, digest: Digest)
}

public typealias TransferEventHandler = @Sendable (TransferEvent) -> Void

/// One HTTP client and one registry client per registry for a whole command, and what each
/// registry is known to hold, so spark-py can mount the layers spark just pushed.
public final class RegistrySession: Sendable {
    public let options: RegistryOptions
    let http: HTTPClient
    let store: Store
    let events: TransferEventHandler
    private let clients = Mutex<[String: RegistryClient]>([:])
    /// Serialises read-modify-write of the origins cache.
    private let originsLock = Mutex(())

    /// Blob digest → registry/repository names known to hold it, for cross-repository mounts.
    static let origins = CacheShelf<[String]>("origins", lifetime: .whileBlobExists)

    public init(options: RegistryOptions, store: Store, events: @escaping TransferEventHandler) {
        var configuration = HTTPClientConfiguration()
        configuration.debug = options.log
        http = HTTPClient(configuration: configuration)
        self.options = options
        self.store = store
        self.events = events
    }

    public func client(for registry: String) -> RegistryClient {
        clients.withLock { clients in
            if let client = clients[registry] { return client }
            let client = RegistryClient(registry: registry, options: options, http: http)
            clients[registry] = client
            return client
        }
    }

    /// Repositories of `registry` known to hold the blob (pushed or pulled by this tool).
    func origins(of digest: Digest, in registry: String) -> [String] {
        (store.cached(Self.origins, key: digest.encoded) ?? []).compactMap { origin in
            guard origin.hasPrefix(registry + "/") else { return nil }
            return String(origin.dropFirst(registry.count + 1))
        }
    }

    func remember(_ digest: Digest, in registry: String, repository: String) {
        let origin = "\(registry)/\(repository)"
        originsLock.withLock { _ in
            var known = store.cached(Self.origins, key: digest.encoded) ?? []
            guard !known.contains(origin) else { return }
            known.append(origin)
            try? store.remember(Array(known.suffix(16)), on: Self.origins, key: digest.encoded)
        }
    }
}
