@testable import Preload
import Testing

/// Which layers a daemon load sends as their tars: those gzip barely shrinks, and small ones.
struct DaemonArchiveTests {
    @Test(arguments: [
        ("a jar group", Int64(58_631_168), Int64(58_636_211), true),
        ("a Debian base", 290_250_240, 106_020_923, false),
        ("a small conf layer", 86_016, 11_692, true),
        ("1 MiB of text", 1 << 20, 4_000, true),
        ("3.7 MB of text", 3_700_000, 5_000, false),
        ("a quarter bigger", 1_250_000_000, 1_000_000_000, true),
        ("more than a quarter bigger", 1_250_000_001, 1_000_000_000, false),
    ])
    func sentInflated(_ layer: String, _ tar: Int64, _ blob: Int64, _ expected: Bool) {
        #expect(DaemonArchive.sentInflated(tar: tar, blob: blob) == expected, "\(layer)")
    }
}
