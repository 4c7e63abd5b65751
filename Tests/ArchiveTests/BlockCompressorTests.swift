import Archive
import Foundation
import Testing

struct GzipSinkTests {
    /// Several blocks, compressible and not, and a final partial block.
    static let input: Data = {
        var data = Data()
        for i in 0..<(3 * compressionBlockSize / 64) { data.append(contentsOf: Array("line \(i) of a compressible text\n".utf8.prefix(64))) }
        var state: UInt64 = 42
        for _ in 0..<(compressionBlockSize + 12_345) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            data.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        return data
    }()

    func compress(_ data: Data, threads: Int, level: Int32 = 6) throws -> [UInt8] {
        let memory = MemorySink()
        let sink = try GzipSink(next: memory, codec: GzipCodec(level: level), threads: threads)
        // Uneven writes, as a tar writer makes them.
        var offset = 0
        var size = 1
        while offset < data.count {
            let end = min(data.count, offset + size)
            try data[offset..<end].withUnsafeBytes { try sink.write($0) }
            offset = end
            size = size * 3 % 700_001 + 1
        }
        try sink.finish()
        return memory.bytes
    }

    @Test(arguments: [1, 2, 8])
    func bytesDoNotDependOnTheThreadCount(threads: Int) throws {
        #expect(try compress(Self.input, threads: threads) == compress(Self.input, threads: 1))
    }

    @Test(arguments: [Int32(1), 6, 9])
    func gzipRestoresTheExactInput(level: Int32) throws {
        try withTemporaryDirectory { dir in
            let file = dir.appendingPathComponent("x.gz")
            try Data(try compress(Self.input, threads: 2, level: level)).write(to: file)
            _ = try run("gzip", "-t", file.path)
            _ = try run("/bin/sh", "-c", "gzip -dc '\(file.path)' > '\(dir.path)/x'")
            #expect(try Data(contentsOf: dir.appendingPathComponent("x")) == Self.input)
        }
    }

    @Test func emptyInputIsAValidGzipFile() throws {
        try withTemporaryDirectory { dir in
            let file = dir.appendingPathComponent("empty.gz")
            try Data(try compress(Data(), threads: 2)).write(to: file)
            #expect(try run("/bin/sh", "-c", "gzip -dc '\(file.path)' | wc -c").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }

    @Test func compressesAsWellAsPlainGzip() throws {
        try withTemporaryDirectory { dir in
            let raw = dir.appendingPathComponent("raw")
            try Self.input.write(to: raw)
            let reference = try run("/bin/sh", "-c", "gzip -6 -c '\(raw.path)' | wc -c").trimmingCharacters(in: .whitespacesAndNewlines)
            let ours = try compress(Self.input, threads: 2).count
            #expect(Double(ours) <= Double(Int(reference)!) * 1.01, "ours \(ours) bytes, gzip -6 \(reference)")
        }
    }

    /// Bytes marked as already compressed go into stored blocks; the rest is deflated.
    @Test func markedBlocksAreStoredAndStillRestore() throws {
        try withTemporaryDirectory { dir in
            let text = Data(String(repeating: "compressible text ", count: 200_000).utf8)
            for marked in [false, true] {
                let memory = MemorySink()
                let sink = try GzipSink(next: memory, codec: GzipCodec(level: 6), threads: 2)
                sink.contentIsCompressed = marked
                try text.withUnsafeBytes { try sink.write($0) }
                try sink.finish()
                let ratio = Double(memory.bytes.count) / Double(text.count)
                #expect(marked ? ratio > 1.0 : ratio < 0.01, "marked \(marked): \(ratio)")
                let file = dir.appendingPathComponent("m\(marked).gz")
                try Data(memory.bytes).write(to: file)
                _ = try run("/bin/sh", "-c", "gzip -dc '\(file.path)' > '\(dir.path)/out'")
                #expect(try Data(contentsOf: dir.appendingPathComponent("out")) == text)
            }
        }
    }

    @Test(arguments: [("lib/spark-core_2.13-4.3.0.jar", true), ("python/lib/py4j-src.ZIP", true), ("bin/spark-submit", false),
                      ("data/graphx/users.txt", false), ("x.jar.txt", false)])
    func archivesAreRecognisedByName(path: String, compressed: Bool) {
        #expect(LayerWriter.isAlreadyCompressed(path) == compressed)
    }
}

struct ZstdSinkTests {
    func compress(_ data: Data, threads: Int = 2, marked: Bool = false) throws -> [UInt8] {
        let memory = MemorySink()
        let sink = try ZstdSink(next: memory, codec: ZstdCodec(level: 3), threads: threads)
        sink.contentIsCompressed = marked
        try data.withUnsafeBytes { try sink.write($0) }
        try sink.finish()
        return memory.bytes
    }

    func zstdDecompress(_ compressed: [UInt8], in dir: URL) throws -> Data {
        let file = dir.appendingPathComponent("x.zst")
        try Data(compressed).write(to: file)
        _ = try run("/bin/sh", "-c", "zstd -q -d -c '\(file.path)' > '\(dir.path)/x'")
        return try Data(contentsOf: dir.appendingPathComponent("x"))
    }

    /// The zstd command (not ours) restores the exact input from the concatenated frames.
    @Test(arguments: [false, true])
    func zstdRestoresTheInput(marked: Bool) throws {
        try withTemporaryDirectory { dir in
            let compressed = try compress(GzipSinkTests.input, marked: marked)
            #expect(Array(compressed.prefix(4)) == [0x28, 0xb5, 0x2f, 0xfd], "a zstd frame")
            let restored = try zstdDecompress(compressed, in: dir)
            #expect(restored == GzipSinkTests.input)
        }
    }

    @Test(arguments: [1, 2, 8])
    func bytesDoNotDependOnTheThreadCount(threads: Int) throws {
        #expect(try compress(GzipSinkTests.input, threads: threads) == compress(GzipSinkTests.input, threads: 1))
    }

    /// Marked content goes into raw blocks (a few bytes of framing per 128 KiB); the rest is compressed.
    @Test func markedBlocksAreStored() throws {
        let text = Data(String(repeating: "compressible text ", count: 200_000).utf8)
        let stored = try compress(text, marked: true).count
        #expect(stored > text.count && stored < text.count + text.count / 1000)
        #expect(try compress(text).count < text.count / 100)
    }

    @Test func emptyInputIsAValidZstdStream() throws {
        try withTemporaryDirectory { dir in
            for marked in [false, true] {
                let restored = try zstdDecompress(try compress(Data(), marked: marked), in: dir)
                #expect(restored.isEmpty)
            }
        }
    }
}
