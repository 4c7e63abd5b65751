import Archive
import Foundation
import Testing

/// Gzip tars are inflated by ISA-L and read by libarchive: checked on archives made by GNU tar
/// and gzip, not by us.
struct TarReaderTests {
    /// A directory tree of `count` files, packed by GNU tar and gzip into `name`.
    func gnuTarball(in dir: URL, name: String, files count: Int) throws -> URL {
        let tree = dir.appendingPathComponent("tree-\(name)")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("sub"), withIntermediateDirectories: true)
        for index in 0..<count {
            try Data(String(repeating: "file \(index) ", count: 5_000 + index).utf8).write(to: tree.appendingPathComponent("sub/f\(index)"))
        }
        let tarball = dir.appendingPathComponent(name)
        _ = try run("tar", "-C", tree.path, "--sort=name", "-czf", tarball.path, ".")
        return tarball
    }

    func paths(_ url: URL) throws -> [String] {
        let reader = try TarReader(path: url.path)
        var paths: [String] = []
        while let entry = try reader.next() { paths.append(entry.path) }
        return paths
    }

    @Test func readsEveryEntryOfAGzipTar() throws {
        try withTemporaryDirectory { dir in
            let tarball = try gnuTarball(in: dir, name: "a.tgz", files: 40)
            let expected = try run("tar", "-tzf", tarball.path).split(separator: "\n").map(String.init)
            let read = try paths(tarball)
            #expect(read == expected)
            #expect(read.count == 42)
        }
    }

    /// `cat a.gz b.gz` is one gzip stream of two members; a tar split across them reads whole.
    @Test func readsATarSplitOverTwoGzipMembers() throws {
        try withTemporaryDirectory { dir in
            let tar = dir.appendingPathComponent("x.tar")
            let tarball = try gnuTarball(in: dir, name: "x.tgz", files: 30)
            _ = try run("/bin/sh", "-c", "gzip -dc '\(tarball.path)' > '\(tar.path)'")
            let split = dir.appendingPathComponent("split.tgz")
            _ = try run("/bin/sh", "-c", "cd '\(dir.path)' && head -c 70000 x.tar | gzip -1 > split.tgz && tail -c +70001 x.tar | gzip -9 >> split.tgz")
            #expect(try paths(split) == paths(tarball))
        }
    }

    /// The in-memory reader (for the fuzzer) sees what the file reader sees, data included.
    @Test func readsTheSameTarFromMemory() throws {
        try withTemporaryDirectory { dir in
            let tarball = try gnuTarball(in: dir, name: "m.tgz", files: 12)
            let fromFile = try TarReader(path: tarball.path)
            let fromMemory = try TarReader(bytes: Array(try Data(contentsOf: tarball)), name: "m.tgz")
            var count = 0
            while let entry = try fromFile.next() {
                let other = try #require(try fromMemory.next())
                #expect(other.path == entry.path)
                #expect(try fromMemory.readAll() == fromFile.readAll())
                count += 1
            }
            #expect(try fromMemory.next() == nil)
            #expect(count == 14)
        }
    }

    @Test func truncatedTarFromMemoryIsAnErrorNamingIt() throws {
        try withTemporaryDirectory { dir in
            let tarball = try gnuTarball(in: dir, name: "t.tgz", files: 12)
            let bytes = Array(try Data(contentsOf: tarball))
            let error = #expect(throws: ArchiveError.self) {
                let reader = try TarReader(bytes: bytes.prefix(bytes.count / 2), name: "half.tgz")
                while try reader.next() != nil { try reader.readData { _ in } }
            }
            #expect(error?.path == "half.tgz")
        }
    }

    @Test func corruptGzipDataIsAnErrorNamingTheFile() throws {
        try withTemporaryDirectory { dir in
            let tarball = try gnuTarball(in: dir, name: "c.tgz", files: 40)
            var bytes = try Data(contentsOf: tarball)
            for offset in stride(from: 200, to: min(bytes.count - 20, 4_000), by: 7) { bytes[offset] ^= 0x5a }
            try bytes.write(to: tarball)
            #expect {
                _ = try paths(tarball)
            } throws: { error in
                "\(error)".contains(tarball.path)
            }
        }
    }

    @Test func aTruncatedGzipTarIsAnError() throws {
        try withTemporaryDirectory { dir in
            let tarball = try gnuTarball(in: dir, name: "t.tgz", files: 40)
            let bytes = try Data(contentsOf: tarball)
            try bytes.prefix(bytes.count / 2).write(to: tarball)
            #expect {
                _ = try paths(tarball)
            } throws: { error in
                "\(error)".contains("t.tgz")
            }
        }
    }
}

/// A snapshot checks its layer against the diff_id while unpacking it: the digest of the whole
/// decompressed stream, end-of-archive blocks and any padding after them included, however the
/// layer is compressed; checked against sha256sum of what gzip -d and zstd -d give.
struct TarStreamDigestTests {
    @Test(arguments: ["tar", "tar.gz", "tar.zst", "padded.tar.gz"])
    func theStreamDigestIsTheDigestOfTheDecompressedTar(_ kind: String) throws {
        try withTemporaryDirectory { dir in
            let tree = dir.appendingPathComponent("tree")
            try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
            for index in 0..<20 { try Data(String(repeating: "line \(index)\n", count: 3_000).utf8).write(to: tree.appendingPathComponent("f\(index)")) }
            let tar = dir.appendingPathComponent("layer.tar")
            _ = try run("tar", "-C", tree.path, "--sort=name", "-cf", tar.path, ".")
            // Padding after the end-of-archive blocks, more than libarchive reads ahead (1 MiB) and
            // never asks for: the diff_id covers it.
            if kind.hasPrefix("padded") { _ = try run("/bin/sh", "-c", "head -c 3145728 /dev/zero >> '\(tar.path)'") }
            let expected = String(try run("sha256sum", tar.path).prefix(64))
            let layer = dir.appendingPathComponent("layer.\(kind)")
            switch kind {
            case "tar": break
            case "tar.zst": _ = try run("zstd", "-q", tar.path, "-o", layer.path)
            default: _ = try run("/bin/sh", "-c", "gzip -c '\(tar.path)' > '\(layer.path)'")
            }
            let reader = try TarReader(path: layer.path, hashingStream: true)
            var files = 0
            while let entry = try reader.next() {
                if case .file = entry.kind { files += 1 }
                try reader.readData { _ in }
            }
            #expect(files == 20)
            #expect(try reader.streamDigestHex() == expected)
        }
    }

    /// Entries whose data the unpacker skips still count: the digest is of every byte.
    @Test func entriesLeftUnreadStillCount() throws {
        try withTemporaryDirectory { dir in
            let tree = dir.appendingPathComponent("tree")
            try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
            try Data(String(repeating: "x", count: 100_000).utf8).write(to: tree.appendingPathComponent("big"))
            let tar = dir.appendingPathComponent("s.tar")
            _ = try run("tar", "-C", tree.path, "-cf", tar.path, ".")
            _ = try run("gzip", "-k", tar.path)
            let reader = try TarReader(path: tar.path + ".gz", hashingStream: true)
            while try reader.next() != nil {}
            #expect(try reader.streamDigestHex() == String(try run("sha256sum", tar.path).prefix(64)))
        }
    }
}
