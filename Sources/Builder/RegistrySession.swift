import Foundation
import HTTP
import OCI
import Registry
import Store

/// Progress of pushes and pulls.
public enum TransferEvent: Sendable {
    case blobSkipped(Digest, size: Int64, reason: String)
    case blobMounted(Digest, size: Int64, from: String)
    case blobUploaded(Digest, size: Int64, seconds: Double)
    case blobDownloaded(Digest, size: Int64, seconds: Double)
    case manifestPushed(reference: String, digest: Digest)
}

public typealias TransferEventHandler = @Sendable (TransferEvent) -> Void

/// One HTTP client and one registry client per registry for a whole command, and what each
/// registry is known to hold, so spark-py can mount the layers spark just pushed.
public final class RegistrySession: @unchecked Sendable {
    public let options: RegistryOptions
    let http: HTTPClient
    let store: Store
    let events: TransferEventHandler
    private let lock = NSLock()
    private var clients: [String: RegistryClient] = [:]

    public init(options: RegistryOptions, store: Store, events: @escaping TransferEventHandler) {
        var configuration = HTTPClientConfiguration()
        configuration.debug = options.log
        http = HTTPClient(configuration: configuration)
        self.options = options
        self.store = store
        self.events = events
    }

    public func client(for registry: String) -> RegistryClient {
        lock.withLock {
            if let client = clients[registry] { return client }
            let client = RegistryClient(registry: registry, options: options, http: http)
            clients[registry] = client
            return client
        }
    }

    /// Repositories of `registry` known to hold the blob (pushed or pulled by this tool).
    func origins(of digest: Digest, in registry: String) -> [String] {
        (store.cached([String].self, .origins, key: digest.encoded) ?? []).compactMap { origin in
            guard origin.hasPrefix(registry + "/") else { return nil }
            return String(origin.dropFirst(registry.count + 1))
        }
    }

    func remember(_ digest: Digest, in registry: String, repository: String) {
        let origin = "\(registry)/\(repository)"
        lock.withLock {
            var known = store.cached([String].self, .origins, key: digest.encoded) ?? []
            guard !known.contains(origin) else { return }
            known.append(origin)
            try? store.remember(Array(known.suffix(16)), .origins, key: digest.encoded)
        }
    }
}
