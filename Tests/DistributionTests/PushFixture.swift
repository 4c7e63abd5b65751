@testable import Distribution
import Foundation
import OCI
import Registry
import Store
import Support
import Testing

/// The registry scripts/test.sh starts; CI=true makes a missing one a failure instead of a skip.
enum RegistryUnderTest {
    static let address = ProcessInfo.processInfo.environment["SIT_REGISTRY"].flatMap { $0.isEmpty ? nil : $0 }
    static let isCI = ["true", "1", "yes"].contains(ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? "")
}

/// A store with random blobs, a session on the test registry, and a PushAhead to a repository
/// of this fixture's own.
final class PushFixture {
    struct Blob { let digest: Digest; let size: Int64 }

    let directory: String
    let store: Store
    let registry: String
    let reference: ImageReference
    let pusher: Pusher
    let ahead: PushAhead
    /// What the session reported, as "uploaded DIGEST", "skipped DIGEST", "mounted DIGEST".
    let events: Locked<[String]>

    init(jobs: Int) throws {
        registry = try #require(RegistryUnderTest.address, "SIT_REGISTRY is not set but CI=true: the test services must run in CI")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("push-ahead-tests-\(UUID().uuidString)").path
        store = try Store(root: "\(directory)/store")
        reference = try ImageReference(parsing: "\(registry)/push-ahead/\(UUID().uuidString.lowercased()):latest")
        let events = Locked<[String]>([])
        self.events = events
        let session = RegistrySession(options: RegistryOptions(certificateDirectories: [], jobs: jobs), store: store) { event in
            if let text = Self.describe(event) { events.update { $0.append(text) } }
        }
        pusher = Pusher(session: session)
        ahead = PushAhead(pusher: pusher)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A stored blob of random bytes, so no other test or run has pushed it.
    func blob(size: Int = 4096) throws -> Blob {
        var generator = SystemRandomNumberGenerator()
        let words = (0..<(size + 7) / 8).map { _ in generator.next() as UInt64 }
        let bytes = words.withUnsafeBytes { Array($0.prefix(size)) }
        return Blob(digest: try store.putBlob(bytes), size: Int64(size))
    }

    func outcome(of blob: Blob) -> Pusher.BlobOutcome? {
        ahead.outcome(of: blob.digest, registry: registry, repository: reference.repository)
    }

    /// Asks the registry itself (HEAD), not the tool's caches.
    func registryHas(_ blob: Blob) throws -> Bool {
        try pusher.session.client(for: registry).blobExists(blob.digest, repository: reference.repository)
    }

    private static func describe(_ event: TransferEvent) -> String? {
        switch event {
        case .blobUploaded(let digest, _, _): "uploaded \(digest)"
        case .blobSkipped(let digest, _, _): "skipped \(digest)"
        case .blobMounted(let digest, _, _): "mounted \(digest)"
        case .blobDownloaded(let digest, _, _): "downloaded \(digest)"
        case .manifestPushed(let reference, _): "manifest \(reference)"
        case .blobProgress: nil
        }
    }
}
