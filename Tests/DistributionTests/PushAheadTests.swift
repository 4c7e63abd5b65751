@testable import Distribution
import OCI
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
