import Foundation
import Testing

/// RUNs that change nothing make the same empty layer, so one snapshot stands for several layers
/// of the chain; the RUNs after them must still mount their overlay (overlayfs refuses a lower
/// directory given twice).
@Suite(.serialized)
struct RepeatedLayerRunTests {
    @Test func aRunAfterIdenticalLayersRuns() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN true
                RUN echo unchanged >/dev/null
                RUN echo after > /after

                """)
            try fixture.build(tag: "repeated")
            let layers = try fixture.layers("spark:repeated")
            #expect(layers.count >= 4 && layers[layers.count - 3] == layers[layers.count - 2], "two RUNs made the same layer: \(layers)")
            let rootfs = try fixture.unpack("spark:repeated")
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "after").path) == Data("after\n".utf8))
        }
    }
}
