import Archive
import Foundation
import OCI
@testable import Preload
import Store
import Testing

/// Patch layers over a store of real layer blobs: the patch is read back from its tar.
struct PreloadPatchTests {
    typealias F = ImageFixture

    /// The layers of a small Spark-like image: a base, two builds of the jar group, a conf layer
    /// above them (which also gives /opt/spark its final metadata), and a layer that replaces a
    /// file of the base.
    struct Layers {
        let base, jars1, jars2, conf, release2: ImageFixture.Layer

        init(_ fixture: ImageFixture) throws {
            let parents = [F.directory("opt"), F.directory("opt/spark")]
            base = try fixture.layer(parents + [F.file("opt/spark/RELEASE", "Spark 4.0.0")])
            jars1 = try fixture.layer(parents + [
                F.directory("opt/spark/jars"), F.file("opt/spark/jars/a-1.jar", "a1"), F.file("opt/spark/jars/b-1.jar", "b1"),
                F.directory("opt/spark/jars/extra"), F.file("opt/spark/jars/extra/c-1.jar", "c1"),
            ])
            jars2 = try fixture.layer(parents + [
                F.directory("opt/spark/jars", mode: 0o750, uid: 185), F.file("opt/spark/jars/a-2.jar", "a2"),
                F.file("opt/spark/jars/b-1.jar", "b1"), F.symlink("opt/spark/jars/a.jar", to: "a-2.jar"),
            ])
            conf = try fixture.layer([
                F.directory("opt"), F.directory("opt/spark", mode: 0o775, uid: 185),
                F.directory("opt/spark/conf"), F.file("opt/spark/conf/spark-defaults.conf", "spark.master local"),
            ])
            release2 = try fixture.layer(parents + [F.file("opt/spark/RELEASE", "Spark 4.0.1")])
        }
    }

    @Test func oneChangedJarGroupBecomesOneLayer() throws {
        let fixture = try ImageFixture()
        let layers = try Layers(fixture)
        let earlier = try fixture.image([layers.base, layers.jars1, layers.conf])
        let image = try fixture.image([layers.base, layers.jars2, layers.conf])
        // The daemon holds the earlier tree as an earlier patch: its own diff_ids, not the store's.
        let daemonConfig = Self.patched(earlier.config, times: 1)

        let patch = try #require(try PreloadPatch.make(from: earlier, daemonConfig: daemonConfig, to: image, store: fixture.store))
        defer { unlink(patch.layerPath) }

        let entries = try F.read(patch.layerPath)
        // Directories with their final metadata (libarchive writes their names with a slash),
        // the new jar group's other entries in order, then whiteouts for what the new build dropped.
        #expect(entries.map(\.entry) == [
            TarEntry(path: "opt/", kind: .directory, mode: 0o755),
            TarEntry(path: "opt/spark/", kind: .directory, mode: 0o775, uid: 185),
            TarEntry(path: "opt/spark/jars/", kind: .directory, mode: 0o750, uid: 185),
            TarEntry(path: "opt/spark/jars/a-2.jar", kind: .file(size: 2), mode: 0o644),
            TarEntry(path: "opt/spark/jars/b-1.jar", kind: .file(size: 2), mode: 0o644),
            TarEntry(path: "opt/spark/jars/a.jar", kind: .symlink(target: "a-2.jar"), mode: 0o777),
            TarEntry(path: "opt/spark/jars/.wh.a-1.jar", kind: .file(size: 0), mode: 0o644),
            TarEntry(path: "opt/spark/jars/.wh.extra", kind: .file(size: 0), mode: 0o644),
        ])
        #expect(entries.map { String(decoding: $0.bytes, as: UTF8.self) } == ["", "", "", "a2", "b1", "", "", ""])

        let layerBytes = try Array(Data(contentsOf: URL(fileURLWithPath: patch.layerPath)))
        let patchDiffID = try fixture.store.putBlob(layerBytes)
        let config = try CanonicalJSON.decode(ImageConfig.self, from: Data(patch.config))
        #expect(patch.layerSize == Int64(layerBytes.count))
        #expect(patch.daemonLayers == daemonConfig.rootfs.diffIDs)
        #expect(config.rootfs.diffIDs == daemonConfig.rootfs.diffIDs + [patchDiffID])
        #expect(config.history?.map(\.createdBy) == (daemonConfig.history ?? []).map(\.createdBy)
            + ["\(PreloadPatch.historyPrefix) to \(image.manifestDescriptor.digest)"])
        #expect(patch.imageID == (try fixture.store.putBlob(patch.config)))
    }

    /// Cases where one layer over the earlier tree would not give exactly the new image's tree.
    enum Refused: String, CaseIterable, CustomTestStringConvertible {
        case nothingChanged
        case sharedLayersOutOfOrder
        /// Dropping the layer that replaced RELEASE would need the base's RELEASE back.
        case sharedLayerHoldsAChangedFile
        case maximumDepthReached

        var testDescription: String { rawValue }

        func images(_ layers: Layers) -> (earlier: [ImageFixture.Layer], new: [ImageFixture.Layer], patches: Int) {
            switch self {
            case .nothingChanged: ([layers.base, layers.jars1, layers.conf], [layers.base, layers.jars1, layers.conf], 0)
            case .sharedLayersOutOfOrder: ([layers.base, layers.jars1, layers.conf], [layers.conf, layers.base, layers.jars2], 0)
            case .sharedLayerHoldsAChangedFile: ([layers.base, layers.release2], [layers.base, layers.conf], 0)
            case .maximumDepthReached: ([layers.base, layers.jars1, layers.conf], [layers.base, layers.jars2, layers.conf], PreloadPatch.maximumDepth)
            }
        }
    }

    @Test(arguments: Refused.allCases)
    func noPatch(_ refused: Refused) throws {
        let fixture = try ImageFixture()
        let (earlierLayers, newLayers, patches) = refused.images(try Layers(fixture))
        let earlier = try fixture.image(earlierLayers)
        let image = try fixture.image(newLayers, history: [History(created: nil, createdBy: "COPY jars")])
        let patch = try PreloadPatch.make(from: earlier, daemonConfig: Self.patched(earlier.config, times: patches), to: image, store: fixture.store)
        #expect(patch == nil)
        #expect(try fixture.ingestLeftovers() == [])
    }

    /// One patch fewer than the limit still gives a patch: the limit is exactly `maximumDepth`.
    @Test func patchBelowTheMaximumDepth() throws {
        let fixture = try ImageFixture()
        let layers = try Layers(fixture)
        let earlier = try fixture.image([layers.base, layers.jars1, layers.conf])
        let image = try fixture.image([layers.base, layers.jars2, layers.conf])
        let daemonConfig = Self.patched(earlier.config, times: PreloadPatch.maximumDepth - 1)
        let patch = try PreloadPatch.make(from: earlier, daemonConfig: daemonConfig, to: image, store: fixture.store)
        defer { if let patch { unlink(patch.layerPath) } }
        #expect(patch?.daemonLayers == daemonConfig.rootfs.diffIDs)
    }

    /// `config` as the daemon holds it after `times` patches: one more layer and history entry
    /// for each (the file tree stays the earlier image's, as the patch assumes).
    static func patched(_ config: ImageConfig, times: Int) -> ImageConfig {
        var config = config
        for n in 0..<times {
            config.rootfs.diffIDs.append(Digest(sha256Hex: String(repeating: String(n % 10), count: 64)))
            config.history = (config.history ?? []) + [History(created: nil, createdBy: "\(PreloadPatch.historyPrefix) to earlier \(n)")]
        }
        return config
    }
}
