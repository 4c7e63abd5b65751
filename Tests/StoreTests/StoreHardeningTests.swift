import Foundation
import Store
import Testing

/// gc against running writers, and blobs that rot.
struct StoreHardeningTests {
    /// A build holds the writers' lock from its first blob to its tag; gc must wait for it, and
    /// must not remove the untagged blob while it waits.
    @Test func garbageCollectionWaitsForWriters() throws {
        try withStore { store in
            let finished = DispatchSemaphore(value: 0)
            var writer: Store? = try store.holdingWriterLock()
            let untagged = try writer!.putBlob(Array("being built".utf8))
            let collector = Store.init(root:)
            let root = store.root
            DispatchQueue.global().async {
                _ = try? collector(root).collectGarbage()
                finished.signal()
            }
            #expect(finished.wait(timeout: .now() + 0.5) == .timedOut, "gc ran while a writer held the store")
            #expect(store.hasBlob(untagged), "gc removed a blob a running build had not tagged yet")
            writer = nil
            #expect(finished.wait(timeout: .now() + 10) == .success, "gc did not run once the writer was done")
            #expect(!store.hasBlob(untagged))
        }
    }

    /// A fresh, verified copy replaces a blob that rotted on disk instead of being dropped.
    @Test func aCorruptBlobIsReplacedByAVerifiedCopy() throws {
        try withStore { store in
            let bytes = Array("config".utf8)
            let digest = try store.putBlob(bytes)
            try Data("tampered".utf8).write(to: URL(fileURLWithPath: store.blobPath(digest)))
            #expect(throws: StoreError.self) { try store.readBlob(digest) }
            _ = try store.putBlob(bytes)
            #expect(try store.readBlob(digest) == bytes)
        }
    }

    /// What a killed command left in ingest/ (spool files, staging directories) goes with gc.
    @Test func garbageCollectionRemovesLeftoverTemporaries() throws {
        try withStore { store in
            let staging = "\(store.root)/ingest/staging-killed"
            try FileManager.default.createDirectory(atPath: "\(staging)/blobs", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: "\(staging)/blobs/x", contents: Data("x".utf8))
            FileManager.default.createFile(atPath: "\(store.root)/ingest/spool-killed", contents: Data("y".utf8))
            _ = try store.collectGarbage()
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/ingest").isEmpty)
        }
    }
}
