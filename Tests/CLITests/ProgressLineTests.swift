import Testing
@testable import spark_image_tool

/// What the progress renderer prints, as pure text: the terminal's bar and the log lines.
struct ProgressLineTests {
    @Test(arguments: [
        // Nothing moved yet: no rate to claim.
        ("base", Int64(0), Int64(0), 1.0, "    base …"),
        ("unpacking", 0, 48_000_000, 1.0, "    unpacking …"),
        ("rootfs:base.tar.gz", 12_000_000, 0, 2.0, "    rootfs:base.tar.gz 12.0 MB  6.0 MB/s"),
        ("layer", 12_000_000, 48_000_000, 2.0, "    layer [######..................] 12.0 MB / 48.0 MB  6.0 MB/s"),
        ("layer", 48_000_000, 48_000_000, 4.0, "    layer [########################] 48.0 MB / 48.0 MB  12.0 MB/s"),
        // A size that lies (more bytes than announced) fills the bar and no more.
        ("blobs", 60_000_000, 48_000_000, 1.0, "    blobs [########################] 60.0 MB / 48.0 MB  60.0 MB/s"),
        ("blobs", 1_500, 3_000, 0, "    blobs [############............] 1.5 kB / 3.0 kB  1.5 MB/s"),
        (String(repeating: "x", count: 50), 1, 0, 1, "    \(String(repeating: "x", count: 39))… 1 B  1 B/s"),
    ])
    func bar(label: String, bytes: Int64, total: Int64, seconds: Double, expected: String) {
        #expect(ProgressRenderer.barText(label: label, bytes: bytes, total: total, seconds: seconds) == expected)
    }

    @Test(arguments: [
        (2, 7, "RUN apt-get update", 41.23, "[2/7] RUN apt-get update 41.2 s"),
        (1, 1, "RUN " + String(repeating: "a", count: 70), 0.04, "[1/1] RUN \(String(repeating: "a", count: 55))… 0.0 s"),
        (3, 4, "RUN <<EOF\necho hi\nEOF", 1.0, "[3/4] RUN <<EOF echo hi EOF 1.0 s"),
    ])
    func step(index: Int, count: Int, text: String, seconds: Double, expected: String) {
        #expect(ProgressRenderer.stepLine(index: index, count: count, text: text, seconds: seconds) == expected)
    }

    @Test func task() {
        #expect(ProgressRenderer.taskLine(task: "base", text: "imported rootfs:base.tar", bytes: 350_000_000, seconds: 5.83)
            == "[base] imported rootfs:base.tar 350.0 MB in 5.8 s")
    }
}
