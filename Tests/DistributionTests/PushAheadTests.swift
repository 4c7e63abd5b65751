@testable import Distribution
import Foundation
import OCI
import Registry
import Store
import Support
import Testing

/// PushAhead against the real registry that scripts/test.sh starts (SIT_REGISTRY). Without it the
/// suite is recorded as skipped, except in CI, where it runs and fails on the missing address.
@Suite(.enabled(if: RegistryUnderTest.address != nil || RegistryUnderTest.isCI, "SIT_REGISTRY is not set: run scripts/test.sh"))
struct PushAheadTests {
    @Test func layersBeforeTheImageStartedAreNotUploaded() throws {
        let push = try PushFixture(jobs: 2)
        let early = try push.blob(), later = try push.blob()
        push.ahead.layerFinished(digest: early.digest, size: early.size)
        push.ahead.imageStarted(push.reference)
        push.ahead.layerFinished(digest: later.digest, size: later.size)

        #expect(push.outcome(of: early) == nil)
        #expect(try !push.registryHas(early))
        #expect(push.outcome(of: later) == .uploaded)
    }

    /// With one job the second upload of a blob would run after the first and find it there.
    @Test func aBlobFinishedTwiceIsUploadedOnce() throws {
        let push = try PushFixture(jobs: 1)
        let blob = try push.blob()
        push.ahead.imageStarted(push.reference)
        push.ahead.layerFinished(digest: blob.digest, size: blob.size)
        push.ahead.layerFinished(digest: blob.digest, size: blob.size)
        #expect(push.outcome(of: blob) == .uploaded)
        push.ahead.layerFinished(digest: blob.digest, size: blob.size)
        #expect(push.outcome(of: blob) == .uploaded)
        #expect(push.events.value == ["uploaded \(blob.digest)"])
    }

    @Test func cancelDropsTheUploadsNotStarted() throws {
        let push = try PushFixture(jobs: 1)
        let blobs = try (0..<4).map { _ in try push.blob(size: 1 << 20) }
        push.ahead.imageStarted(push.reference)
        for blob in blobs { push.ahead.layerFinished(digest: blob.digest, size: blob.size) }
        push.ahead.cancel()
        let late = try push.blob()
        push.ahead.layerFinished(digest: late.digest, size: late.size)

        let outcomes = blobs.map(push.outcome)
        // At most the one upload holding the only slot was under way when cancel() came.
        #expect(outcomes.compactMap { $0 }.count <= 1)
        for (blob, outcome) in zip(blobs, outcomes) where outcome == nil {
            #expect(try !push.registryHas(blob), "dropped upload of \(blob.digest) reached the registry")
        }
        #expect(push.outcome(of: late) == nil)
        #expect(try !push.registryHas(late))
    }

    @Test func outcomeIsTheUploadsOwn() throws {
        let push = try PushFixture(jobs: 2)
        let blob = try push.blob()
        let unstored = PushFixture.Blob(digest: Digest(sha256Hex: String(repeating: "0", count: 64)), size: 1)
        push.ahead.imageStarted(push.reference)
        push.ahead.layerFinished(digest: blob.digest, size: blob.size)
        push.ahead.layerFinished(digest: unstored.digest, size: unstored.size)
        #expect(push.outcome(of: blob) == .uploaded)
        // A failed upload has no outcome: the push that follows sends the blob itself.
        #expect(push.outcome(of: unstored) == nil)
        #expect(push.outcome(of: try push.blob()) == nil)
        #expect(push.ahead.outcome(of: blob.digest, registry: push.registry, repository: "other/repository") == nil)

        // The same session knows where the blob is now: a second build skips it in the same
        // repository and mounts it into another.
        let again = PushAhead(pusher: push.pusher)
        again.imageStarted(push.reference)
        again.layerFinished(digest: blob.digest, size: blob.size)
        let elsewhere = try ImageReference(parsing: "\(push.registry)/\(push.reference.repository)-other:latest")
        let mounting = PushAhead(pusher: push.pusher)
        mounting.imageStarted(elsewhere)
        mounting.layerFinished(digest: blob.digest, size: blob.size)
        #expect(again.outcome(of: blob.digest, registry: push.registry, repository: push.reference.repository) == .skipped)
        #expect(mounting.outcome(of: blob.digest, registry: push.registry, repository: elsewhere.repository) == .mounted)
    }
}

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
            events.update { $0.append(Self.describe(event)) }
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

    private static func describe(_ event: TransferEvent) -> String {
        switch event {
        case .blobUploaded(let digest, _, _): "uploaded \(digest)"
        case .blobSkipped(let digest, _, _): "skipped \(digest)"
        case .blobMounted(let digest, _, _): "mounted \(digest)"
        case .blobDownloaded(let digest, _, _): "downloaded \(digest)"
        case .manifestPushed(let reference, _): "manifest \(reference)"
        }
    }
}
