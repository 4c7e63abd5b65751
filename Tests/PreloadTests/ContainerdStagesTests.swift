import Archive
import Foundation
import OCI
@testable import Preload
import Store
import Support
import Testing

/// The archives of a staged containerd import: the bottom layer under a manifest and config cut
/// to it, and the rest under the images' own manifests, each under a staging name.
struct ContainerdStagesTests {
    typealias F = ImageFixture

    /// An archive's files by path, and the names its index gives each manifest digest.
    static func read(_ write: (MemorySink) throws -> Void) throws -> (files: [String: [UInt8]], names: [Digest: String]) {
        let sink = MemorySink()
        try write(sink)
        let reader = try TarReader(bytes: sink.bytes, name: "stage archive")
        var files: [String: [UInt8]] = [:]
        while let entry = try reader.next() { files[entry.path] = try reader.readAll() }
        let index = try CanonicalJSON.decode(ImageIndex.self, from: Data(try #require(files["index.json"])))
        let names = Dictionary(uniqueKeysWithValues: index.manifests.map { ($0.digest, $0.annotations?[Annotation.containerdImageName] ?? "") })
        return (files, names)
    }

    static func blob(_ files: [String: [UInt8]], _ digest: Digest) -> [UInt8]? { files[Store.archivePath(digest)] }

    @Test func theBottomLayerGoesUnderACutManifestAndTheRestUnderTheImagesOwn() throws {
        let fixture = try ImageFixture()
        let base = try fixture.layer([F.file("etc/os-release", "debian")])
        let jars = try fixture.layer([F.file("opt/a.jar", "a")])
        let more = try fixture.layer([F.file("opt/b.jar", "b")])
        let image = try fixture.image([base, jars, more])
        let stages = try #require(try ContainerdStages([image], omitting: [more.digest]))

        let bottom = try Self.read { try stages.writeBottom(from: fixture.store, into: $0) }
        let (cutDigest, cutName) = try #require(bottom.names.first)
        #expect(bottom.names.count == 1 && cutName == stages.bottomName && cutName.hasPrefix("localhost/spark-image-tool-staging:"))
        let cut = try CanonicalJSON.decode(ImageManifest.self, from: Data(try #require(Self.blob(bottom.files, cutDigest))))
        #expect(cut.layers.map(\.digest) == [base.digest])
        let config = try CanonicalJSON.decode(ImageConfig.self, from: Data(try #require(Self.blob(bottom.files, cut.config.digest))))
        #expect(config.rootfs.diffIDs == [base.diffID])
        #expect(config.platform == image.config.platform)
        #expect(stages.namesToRemove == [stages.bottomName] + stages.restNames + [cut.config.digest.description],
                "the staging names, and the name Kubernetes' CRI plugin gives the cut image")
        #expect(Self.blob(bottom.files, base.digest) == (try fixture.store.readBlob(base.digest)))
        #expect(Digest(sha256Hex: SHA256Hex.of(try #require(Self.blob(bottom.files, cutDigest)))) == cutDigest, "the index names the manifest's digest")

        let rest = try Self.read { try stages.writeRest(from: fixture.store, into: $0) }
        #expect(rest.names == [image.manifestDescriptor.digest: stages.restNames[0]])
        let blobs = Set(rest.files.keys.filter { $0.hasPrefix("blobs/sha256/") && $0.count > "blobs/sha256/".count })
        #expect(blobs == Set([image.manifestDescriptor.digest, image.manifest.config.digest, jars.digest].map(Store.archivePath)),
                "neither the bottom layer (it went ahead) nor what the node holds")
        #expect(try #require(try ContainerdStages([image], omitting: [])).bottomName != stages.bottomName, "another preload stages under other names")
    }

    @Test func stagingNamesOverAnHourOldAreStale() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let repository = ContainerdStages.stagingRepository
        let (cut, manifest, other) = (Digest(sha256Hex: SHA256Hex.of("cut")), Digest(sha256Hex: SHA256Hex.of("image")), Digest(sha256Hex: SHA256Hex.of("other")))
        let rows = [("\(repository):1799990000-0123abcd-bottom", cut), ("\(repository):1799990000-0123abcd-0", manifest),
                    ("sha256:0123", cut), ("sha256:4567", manifest), ("docker.io/library/spark:tagged-over-it", cut),
                    ("\(repository):1799999000-89abcdef-bottom", other), ("\(repository):latest", other),
                    ("docker.io/library/spark:1799990000-x", other), ("localhost/spark-image-tool-staging-not:1799990000-0123abcd-0", other)]
        #expect(ContainerdStages.stale(rows, now: now) == rows.prefix(3).map(\.0),
                "stale staging names and the CRI plugin's name of a stale cut image; not a running preload's, nor the image's own")

        let fixture = try ImageFixture()
        let image = try fixture.image([try fixture.layer([F.file("base", "b")]), try fixture.layer([F.file("a.jar", "a")])])
        let stages = try #require(try ContainerdStages([image], omitting: []))
        let made: [(name: String, digest: Digest)] = ([stages.bottomName] + stages.restNames).map { ($0, cut) }
        #expect(ContainerdStages.stale(made, now: Date()).isEmpty)
        #expect(ContainerdStages.stale(made, now: Date().addingTimeInterval(2 * ContainerdStages.staleAfter)) == made.map(\.name))
    }

    @Test func noStagesWhenTheNodeHoldsTheBottomLayer() throws {
        let fixture = try ImageFixture()
        let base = try fixture.layer([F.file("base", "b")])
        let image = try fixture.image([base, try fixture.layer([F.file("a.jar", "a")])])
        #expect(try ContainerdStages([image], omitting: [base.digest]) == nil)
    }
}
