import Archive
import Support
import Foundation
import Testing

struct LayerWriterTests {
    static let entries: [(TarEntry, EntryContents)] = [
        (TarEntry(path: "opt/spark", kind: .directory, mode: 0o755, mtime: 1), .none),
        (TarEntry(path: "opt/spark/RELEASE", kind: .file(size: 11), mode: 0o644, mtime: 1), .bytes(Array("Spark 4.3.0".utf8))),
        (TarEntry(path: "opt/spark/bin", kind: .symlink(target: "../bin"), mode: 0o777, mtime: 1), .none),
        (TarEntry(path: "opt/spark/RELEASE.link", kind: .hardlink(target: "opt/spark/RELEASE"), mode: 0o644, mtime: 1), .none),
        (TarEntry(path: "opt/spark/work-dir", kind: .directory, mode: 0o775, uid: 185, gid: 0, mtime: 1), .none),
        (TarEntry(path: "opt/spark/" + String(repeating: "long-name-", count: 12) + "é.txt", kind: .file(size: 0), mode: 0o600, mtime: 1), .bytes([])),
    ]

    func writeLayer(in dir: URL, name: String, compression: StreamCompression) throws -> LayerDigests {
        let writer = try LayerWriter(outputPath: dir.appendingPathComponent(name).path, compression: compression)
        for (entry, contents) in Self.entries { try writer.tar.append(entry, contents: contents) }
        return try writer.finish()
    }

    @Test func sameEntriesGiveTheSameBytes() throws {
        try withTemporaryDirectory { dir in
            let first = try writeLayer(in: dir, name: "a", compression: .gzip(level: 6))
            let second = try writeLayer(in: dir, name: "b", compression: .gzip(level: 6))
            #expect(first == second)
            #expect(try Data(contentsOf: dir.appendingPathComponent("a")) == Data(contentsOf: dir.appendingPathComponent("b")))
        }
    }

    /// The same entries must give these exact bytes on every machine and with every version of
    /// this tool; a change here changes every image digest users have.
    @Test func bytesAreTheSameEverywhere() throws {
        try withTemporaryDirectory { dir in
            let digests = try writeLayer(in: dir, name: "layer.tar.gz", compression: .gzip(level: 6))
            #expect(digests.diffIDHex == "19d115e61ef3c377838ca7855a60df22c97c4ff7c7bc115af1de0a1a65369265")
            #expect(digests.digestHex == "3e392c5a6cd33e49d86a4b65d385f0254c030c1af7af0c751c2d38e7868d82a5")
        }
    }

    @Test func digestsDescribeTheFiles() throws {
        try withTemporaryDirectory { dir in
            let digests = try writeLayer(in: dir, name: "layer.tar.gz", compression: .gzip(level: 6))
            let blob = try Data(contentsOf: dir.appendingPathComponent("layer.tar.gz"))
            #expect(digests.digestHex == sha256(blob))
            #expect(digests.compressedSize == Int64(blob.count))
            let tar = try run("/bin/sh", "-c", "gzip -dc '\(dir.path)/layer.tar.gz' > '\(dir.path)/layer.tar'")
            #expect(tar.isEmpty)
            let plain = try Data(contentsOf: dir.appendingPathComponent("layer.tar"))
            #expect(digests.diffIDHex == sha256(plain))
            #expect(digests.uncompressedSize == Int64(plain.count))
        }
    }

    @Test func uncompressedLayerIsThePlainTar() throws {
        try withTemporaryDirectory { dir in
            let digests = try writeLayer(in: dir, name: "layer.tar", compression: .none)
            #expect(digests.diffIDHex == digests.digestHex)
            #expect(digests.uncompressedSize == digests.compressedSize)
        }
    }

    /// GNU tar, which nobody here wrote, must see exactly the metadata we asked for.
    @Test func gnuTarReadsTheMetadata() throws {
        try withTemporaryDirectory { dir in
            _ = try writeLayer(in: dir, name: "layer.tar", compression: .none)
            let listing = try run("tar", "--numeric-owner", "--full-time", "-tvf", dir.appendingPathComponent("layer.tar").path)
            let lines = listing.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            #expect(lines.count == Self.entries.count)
            #expect(lines[0][0] == "drwxr-xr-x" && lines[0][1] == "0/0" && lines[0].last == "opt/spark/")
            #expect(lines[1][0] == "-rw-r--r--" && lines[1][2] == "11" && lines[1][3] == "1970-01-01")
            #expect(lines[2][0] == "lrwxrwxrwx" && lines[2].suffix(3).map(String.init) == ["opt/spark/bin", "->", "../bin"])
            #expect(lines[3][0] == "hrw-r--r--" && lines[3].suffix(4).map(String.init) == ["opt/spark/RELEASE.link", "link", "to", "opt/spark/RELEASE"])
            #expect(lines[4][0] == "drwxrwxr-x" && lines[4][1] == "185/0")
            #expect(lines[5].last.map(String.init) == "opt/spark/" + String(repeating: "long-name-", count: 12) + "é.txt")
            // Pax records only where ustar cannot hold the name, and never a charset record.
            let bytes = try Data(contentsOf: dir.appendingPathComponent("layer.tar"))
            #expect(bytes.range(of: Data("hdrcharset".utf8)) == nil)
            #expect(bytes.count(of: Data(" path=".utf8)) == 1)
        }
    }

    @Test func readerRoundTripsEntries() throws {
        try withTemporaryDirectory { dir in
            _ = try writeLayer(in: dir, name: "layer.tgz", compression: .gzip(level: 1))
            let reader = try TarReader(path: dir.appendingPathComponent("layer.tgz").path)
            var seen: [TarEntry] = []
            while let entry = try reader.next() {
                if entry.path.hasSuffix("RELEASE") { #expect(try reader.readAll() == Array("Spark 4.3.0".utf8)) }
                seen.append(entry)
            }
            var expected = Self.entries.map(\.0)
            expected[0].path += "/"
            expected[4].path += "/"
            #expect(seen == expected)
        }
    }

    @Test func importRecompressesATarball() throws {
        try withTemporaryDirectory { dir in
            let plain = try writeLayer(in: dir, name: "rootfs.tar", compression: .none)
            _ = try run("gzip", "-k", "-9", dir.appendingPathComponent("rootfs.tar").path)
            let imported = try LayerWriter.importTarball(at: dir.appendingPathComponent("rootfs.tar.gz").path,
                                                         outputPath: dir.appendingPathComponent("blob").path, compression: .gzip(level: 6))
            #expect(imported.diffIDHex == plain.diffIDHex)
            #expect(imported.digestHex == sha256(try Data(contentsOf: dir.appendingPathComponent("blob"))))
        }
    }

    @Test func importRefusesSomethingThatIsNotATar() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("base.tar").path
            try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: path))
            #expect(throws: ArchiveError(path: path, "not a tar archive (no ustar header in the first block); a rootfs: base must be a tar or compressed tar of a root file system")) {
                _ = try LayerWriter.importTarball(at: path, outputPath: dir.appendingPathComponent("blob").path, compression: .none)
            }
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("blob").path) || true)
        }
    }

    @Test func fileThatShrinksIsAnError() throws {
        try withTemporaryDirectory { dir in
            let source = dir.appendingPathComponent("src")
            try Data("abc".utf8).write(to: source)
            let writer = try TarWriter(sink: NullSink())
            #expect(throws: ArchiveError(path: source.path, "file shrank while it was being read; is something writing to it?")) {
                try writer.append(TarEntry(path: "x", kind: .file(size: 10), mode: 0o644), contents: .file(path: source.path))
            }
        }
    }
}

extension Data {
    func count(of needle: Data) -> Int {
        var count = 0
        var start = startIndex
        while let found = range(of: needle, in: start..<endIndex) {
            count += 1
            start = found.upperBound
        }
        return count
    }
}

func sha256(_ data: Data) -> String {
    SHA256Hex.of([UInt8](data))
}

func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archive-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try body(dir)
}

@discardableResult
func run(_ arguments: String...) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ArchiveError(path: nil, "\(arguments) exited \(process.terminationStatus)") }
    return String(decoding: output, as: UTF8.self)
}
