import OCI
@testable import Preload
@testable import Store
import Support
import Testing

/// Which layer blobs a delta archive leaves out, for images and daemon contents named by layer.
struct DeltaPlanTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let testDescription: String
        /// Each image's layers, bottom first.
        let images: [[String]]
        /// Each daemon image's layers, bottom first.
        let daemon: [[String]]
        let omitted: Set<String>
        /// Layers sent per image (the total is always the image's layer count).
        let sent: [Int]
    }

    static let cases: [Case] = [
        Case(testDescription: "nothing held", images: [["base", "jars", "conf"]], daemon: [],
             omitted: [], sent: [3]),
        Case(testDescription: "a prefix held", images: [["base", "jars", "conf"]], daemon: [["base", "jars", "old-conf"]],
             omitted: ["base", "jars"], sent: [1]),
        Case(testDescription: "all held", images: [["base", "jars", "conf"]], daemon: [["base", "jars", "conf"]],
             omitted: ["base", "jars", "conf"], sent: [0]),
        Case(testDescription: "all held under a longer daemon image", images: [["base", "jars"]], daemon: [["base", "jars", "conf"]],
             omitted: ["base", "jars"], sent: [0]),
        // The second image needs the jars blob above a layer the daemon lacks: it must stay in.
        Case(testDescription: "a blob one image may omit and another needs", images: [["base", "jars", "conf"], ["base", "py", "jars"]],
             daemon: [["base", "jars"]], omitted: ["base"], sent: [1, 2]),
        Case(testDescription: "a chain held only out of order", images: [["base", "jars"]], daemon: [["jars", "base"]],
             omitted: [], sent: [2]),
        Case(testDescription: "a layer held only on another chain", images: [["base", "jars"]], daemon: [["base", "py", "jars"]],
             omitted: ["base"], sent: [1]),
        Case(testDescription: "no images", images: [], daemon: [["base"]], omitted: [], sent: []),
        Case(testDescription: "an image without layers", images: [[]], daemon: [["base"]], omitted: [], sent: [0]),
    ]

    @Test(arguments: cases)
    func plan(_ c: Case) {
        let daemonImages = c.daemon.map { layers in (id: Self.diffID("image:" + layers.joined(separator: ",")), layers: layers.map(Self.diffID)) }
        let plan = DeltaPlan(images: c.images.map(Self.image), daemonChains: Preloader.chains(of: daemonImages))
        #expect(plan.omitted == Set(c.omitted.map(Self.blob)))
        #expect(plan.layersSent.map(\.sent) == c.sent)
        #expect(plan.layersSent.map(\.total) == c.images.map(\.count))
    }

    /// Diff IDs and blob digests differ, as for compressed layers, so a plan that mixes them up fails.
    static func diffID(_ layer: String) -> Digest { Digest(sha256Hex: SHA256Hex.of("diff_id of \(layer)")) }
    static func blob(_ layer: String) -> Digest { Digest(sha256Hex: SHA256Hex.of("blob of \(layer)")) }

    static func image(_ layers: [String]) -> StoredImage {
        var config = ImageConfig(platform: .host)
        config.rootfs = RootFS(diffIDs: layers.map(diffID))
        let descriptors = layers.map { Descriptor(mediaType: MediaType.ociLayerGzip, digest: blob($0), size: 1) }
        let manifest = ImageManifest(mediaType: MediaType.ociManifest,
                                     config: Descriptor(mediaType: MediaType.ociConfig, digest: blob("config"), size: 1), layers: descriptors)
        return StoredImage(manifestDescriptor: Descriptor(mediaType: MediaType.ociManifest, digest: blob("manifest"), size: 1),
                           manifest: manifest, config: config)
    }
}
