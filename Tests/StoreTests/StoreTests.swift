import Archive
import Foundation
import OCI
import Store
import Testing

struct StoreTests {
    @Test func createsAValidLayout() throws {
        try withStore { store in
            let marker = FileManager.default.contents(atPath: "\(store.root)/oci-layout")
            #expect(marker.map { String(decoding: $0, as: UTF8.self) } == #"{"imageLayoutVersion":"1.0.0"}"#)
            let tags = try store.tags()
            let problems = try store.verify()
            #expect(tags.isEmpty)
            #expect(problems.isEmpty)
        }
    }

    @Test func refusesADirectoryWithABadMarker() throws {
        try withTemporaryDirectory { dir in
            try Data("nonsense".utf8).write(to: dir.appendingPathComponent("oci-layout"))
            #expect(throws: StoreError.notALayout(dir.path, reason: "oci-layout is unreadable or not version 1.x")) {
                _ = try Store(root: dir.path)
            }
        }
    }

    @Test func blobsAreAddressedByDigest() throws {
        try withStore { store in
            let digest = try store.putBlob(Array("hello".utf8))
            #expect(digest.description == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
            let bytes = try store.readBlob(digest)
            let size = try store.blobSize(digest)
            #expect(bytes == Array("hello".utf8))
            #expect(size == 5)
        }
    }

    @Test func mismatchedContentIsNotStored() throws {
        try withStore { store in
            let expected = Digest(sha256Hex: String(repeating: "a", count: 64))
            #expect(throws: StoreError.self) {
                try store.ingest(expected: expected, source: "test") { try $0.write(Array("not it".utf8)) }
            }
            #expect(!store.hasBlob(expected))
            let ingest = try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/ingest")
            let blobs = try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/blobs/sha256")
            #expect(ingest.isEmpty)
            #expect(blobs.isEmpty)
        }
    }

    @Test func tagsAreRecordedUnderBothAnnotations() throws {
        try withStore { store in
            let image = try storeImage(in: store)
            let reference = try ImageReference(parsing: "localhost:5000/spark/spark:4.3.0")
            try store.tag(image, as: reference)
            try store.tag(image, as: try reference.withTag("latest"))
            let index = try CanonicalJSON.decode(ImageIndex.self, from: Data(contentsOf: URL(fileURLWithPath: "\(store.root)/index.json")))
            #expect(index.manifests.count == 2)
            #expect(index.manifests[0].annotations == [Annotation.refName: "localhost:5000/spark/spark:4.3.0",
                                                       Annotation.containerdImageName: "localhost:5000/spark/spark:4.3.0"])
            let resolved = try store.resolve(reference)
            let removed = try store.untag(reference)
            let removedAgain = try store.untag(reference)
            let remaining = try store.tags().map(\.reference.description)
            #expect(resolved == image)
            #expect(removed)
            #expect(!removedAgain)
            #expect(remaining == ["localhost:5000/spark/spark:latest"])
        }
    }

    @Test func garbageCollectionKeepsWhatTagsReach() throws {
        try withStore { store in
            let image = try storeImage(in: store)
            let orphan = try store.putBlob(Array("orphan".utf8))
            try store.tag(image, as: try ImageReference(parsing: "spark:1"))
            let result = try store.collectGarbage()
            #expect(result == GarbageCollection(removedBlobs: 1, freedBytes: 6))
            #expect(!store.hasBlob(orphan))
            let problems = try store.verify()
            #expect(problems.isEmpty)
            _ = try store.image(try ImageReference(parsing: "spark:1"))
        }
    }

    @Test func verifyFindsACorruptBlob() throws {
        try withStore { store in
            let image = try storeImage(in: store)
            try store.tag(image, as: try ImageReference(parsing: "spark:1"))
            let manifest = try store.readJSON(ImageManifest.self, image.digest)
            try Data("tampered".utf8).write(to: URL(fileURLWithPath: store.blobPath(manifest.layers[0].digest)))
            let problems = try store.verify()
            #expect(problems.count == 1)
            #expect(problems.first?.hasPrefix("blob \(manifest.layers[0].digest) is corrupt") == true)
        }
    }

    @Test func layerCacheForgetsRemovedBlobs() throws {
        try withStore { store in
            let digest = try store.putBlob(Array("layer".utf8))
            let layer = CachedLayer(digest: digest, size: 5, diffID: digest, uncompressedSize: 5)
            try store.rememberLayer(layer, key: "k1")
            #expect(store.cachedLayer(key: "k1") == layer)
            #expect(store.cachedLayer(key: "k2") == nil)
            unlink(store.blobPath(digest))
            #expect(store.cachedLayer(key: "k1") == nil)
        }
    }
}

/// A one-layer image stored the way the builder stores one.
func storeImage(in store: Store) throws -> Descriptor {
    let layer = try store.putBlob(Array("layer bytes".utf8))
    var config = ImageConfig(platform: .host)
    config.rootfs = RootFS(diffIDs: [layer])
    let configBytes = try CanonicalJSON.encode(config)
    let configDigest = try store.putBlob(configBytes)
    let manifest = ImageManifest(
        mediaType: MediaType.ociManifest,
        config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
        layers: [Descriptor(mediaType: MediaType.ociLayer, digest: layer, size: 11)])
    let bytes = try CanonicalJSON.encode(manifest)
    return Descriptor(mediaType: MediaType.ociManifest, digest: try store.putBlob(bytes), size: Int64(bytes.count))
}

func withStore(_ body: (Store) throws -> Void) throws {
    try withTemporaryDirectory { dir in try body(try Store(root: dir.appendingPathComponent("store").path)) }
}

func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try body(dir)
}
