import Archive
import Foundation
import OCI
@testable import Preload
import Store
import Support
import Testing

/// The first of a staged preload's two loads: the bottom layer alone, inflated, under a config
/// cut to it; or no stage where nothing would overlap.
struct BaseStageTests {
    typealias F = ImageFixture

    @Test func theBottomLayerGoesAheadInflatedUnderACutConfig() throws {
        let fixture = try ImageFixture()
        let base = try fixture.layer([F.directory("etc"), F.file("etc/os-release", String(repeating: "debian\n", count: 2000))])
        let jars = try fixture.layer([F.directory("opt"), F.file("opt/a.jar", "a")])
        let image = try fixture.image([base, jars])

        let stage = try #require(try Preloader.baseStage(of: [image], omitting: [], store: fixture.store))
        let config = try CanonicalJSON.decode(ImageConfig.self, from: Data(stage.config))
        #expect(config.rootfs.diffIDs == [image.config.rootfs.diffIDs[0]])
        #expect(config.platform == image.config.platform)
        #expect(stage.daemonLayers.isEmpty)
        #expect(stage.inflatedFrom == base.digest)

        // The archive holds the layer's tar, whose digest is the diff_id the config names.
        let sink = MemorySink()
        try stage.write(repoTags: [], into: sink)
        let reader = try TarReader(bytes: sink.bytes, name: "stage archive")
        var layerTar: [UInt8]?
        while let entry = try reader.next() {
            var bytes: [UInt8] = []
            try reader.readData { bytes += $0 }
            if entry.path == "top/layer.tar" { layerTar = bytes }
        }
        let tar = try #require(layerTar)
        #expect(Int64(tar.count) == stage.layerSize)
        #expect(Digest(sha256Hex: SHA256Hex.of(tar)) == config.rootfs.diffIDs[0])
    }

    @Test func noStageWhereNothingWouldOverlap() throws {
        let fixture = try ImageFixture()
        let base = try fixture.layer([F.file("base", "b")])
        let jars = try fixture.layer([F.file("a.jar", "a")])
        let twoLayers = try fixture.image([base, jars])
        #expect(try Preloader.baseStage(of: [twoLayers], omitting: [base.digest], store: fixture.store) == nil, "the daemon holds the bottom layer")
        #expect(try Preloader.baseStage(of: [try fixture.image([base])], omitting: [], store: fixture.store) == nil, "nothing else to send")
        #expect(try Preloader.baseStage(of: [twoLayers], omitting: [jars.digest], store: fixture.store) == nil, "the daemon holds the rest")
        let higherUp = try fixture.image([jars, base])
        #expect(try Preloader.baseStage(of: [twoLayers, higherUp], omitting: [], store: fixture.store) == nil,
                "the second load would list the blob as held above another layer")
    }
}
