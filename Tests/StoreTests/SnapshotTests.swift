import Foundation
import Glibc
import OCI
import Store
import Testing

/// Snapshots: a layer unpacked once for overlayfs, checked against its diff_id, kept only for tagged images.
struct SnapshotTests {
    /// A plain tar (its digest is its diff_id) with a file, a whiteout and an opaque directory.
    static func layer(in store: Store) throws -> Descriptor {
        let script = """
            import io, sys, tarfile
            out = io.BytesIO()
            with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for name, data in [("etc/", None), ("etc/passwd", b"root:x:0:0::/:/bin/sh\\n"), (".wh.gone", b""),
                                   ("opt/", None), ("opt/.wh..wh..opq", b""), ("opt/new", b"n")]:
                    info = tarfile.TarInfo(name.rstrip("/"))
                    if data is None:
                        info.type, info.mode = tarfile.DIRTYPE, 0o755
                        tar.addfile(info)
                    else:
                        info.size, info.mode = len(data), 0o644
                        tar.addfile(info, io.BytesIO(data))
            sys.stdout.buffer.write(out.getvalue())
            """
        let bytes = try python(script)
        let digest = try store.putBlob(bytes)
        return Descriptor(mediaType: MediaType.ociLayer, digest: digest, size: Int64(bytes.count))
    }

    /// Python's os.getxattr and tarfile: Swift's Glibc module has no <sys/xattr.h>.
    static func python(_ script: String, _ arguments: [String] = []) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let bytes = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        return bytes
    }

    @Test func aSnapshotHoldsOverlayWhiteoutsAndIsMadeOnce() throws {
        try withStore { store in
            let layer = try Self.layer(in: store)
            let path = try store.snapshot(of: layer, diffID: layer.digest, mode: .root)
            #expect(path == store.snapshotPath(layer.digest))
            #expect(FileManager.default.contents(atPath: "\(path)/etc/passwd") == Data("root:x:0:0::/:/bin/sh\n".utf8))
            var info = stat()
            #expect(lstat("\(path)/gone", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0, "a whiteout is a 0/0 character device")
            let opaque = try Self.python("import os, sys; sys.stdout.buffer.write(os.getxattr(sys.argv[1], 'trusted.overlay.opaque'))", ["\(path)/opt"])
            #expect(opaque == Array("y".utf8), "an opaque directory carries overlayfs's xattr")
            try FileManager.default.removeItem(atPath: store.blobPath(layer.digest))
            #expect(try store.snapshot(of: layer, diffID: layer.digest, mode: .root) == path, "made once, then reused")
        }
    }

    /// A config that names another layer's diff_id must not get (or make) that layer's snapshot.
    @Test func aLayerThatIsNotItsDiffIDLeavesNoSnapshot() throws {
        try withStore { store in
            let layer = try Self.layer(in: store)
            let claimed = Digest(sha256Hex: String(repeating: "ab", count: 32))
            #expect(throws: StoreError.self) { try store.snapshot(of: layer, diffID: claimed, mode: .root) }
            #expect(!FileManager.default.fileExists(atPath: store.snapshotPath(claimed)))
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/ingest").isEmpty, "the temporary snapshot is removed")
        }
    }

    /// The layer as a registry serves it: gzip-compressed, its diff_id the digest of the tar
    /// inside, which the snapshot checks in the same pass that unpacks it.
    static func gzipLayer(of plain: Descriptor, in store: Store, padding: Int = 0) throws -> Descriptor {
        let tar = try [UInt8](Data(contentsOf: URL(fileURLWithPath: store.blobPath(plain.digest)))) + [UInt8](repeating: 0, count: padding)
        let script = "import gzip, sys; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read()))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        (process.standardInput, process.standardOutput) = (input, output)
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: Data(tar))
        try input.fileHandleForWriting.close()
        let bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        return Descriptor(mediaType: MediaType.ociLayerGzip, digest: try store.putBlob(bytes), size: Int64(bytes.count))
    }

    @Test func aGzipLayerIsCheckedAgainstTheDigestOfItsTar() throws {
        try withStore { store in
            let plain = try Self.layer(in: store)
            let path = try store.snapshot(of: try Self.gzipLayer(of: plain, in: store), diffID: plain.digest, mode: .root)
            #expect(FileManager.default.contents(atPath: "\(path)/opt/new") == Data("n".utf8))
        }
    }

    /// Trailing zeros after the end-of-archive blocks change the diff_id: a layer that differs
    /// from the one its config names only there is refused too, and leaves nothing behind.
    @Test(arguments: [512, 10240])
    func aGzipLayerThatIsNotItsDiffIDLeavesNoSnapshot(padding: Int) throws {
        try withStore { store in
            let plain = try Self.layer(in: store)
            let lying = try Self.gzipLayer(of: plain, in: store, padding: padding)
            #expect(throws: StoreError.self) { try store.snapshot(of: lying, diffID: plain.digest, mode: .root) }
            #expect(!FileManager.default.fileExists(atPath: store.snapshotPath(plain.digest)))
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/ingest").isEmpty, "the temporary snapshot is removed")
        }
    }

    @Test func gcKeepsOnlySnapshotsOfTaggedImages() throws {
        try withStore { store in
            let layer = try Self.layer(in: store)
            _ = try store.snapshot(of: layer, diffID: layer.digest, mode: .root)
            let orphan = store.snapshotPath(Digest(sha256Hex: String(repeating: "cd", count: 32)))
            try FileManager.default.createDirectory(atPath: "\(orphan)/locked", withIntermediateDirectories: true)
            chmod("\(orphan)/locked", 0o500)
            var config = ImageConfig(platform: Platform(os: "linux", architecture: "amd64"))
            config.rootfs = RootFS(diffIDs: [layer.digest])
            let configDescriptor = try store.putJSON(config, mediaType: MediaType.ociConfig)
            let manifest = try store.putJSON(
                ImageManifest(mediaType: MediaType.ociManifest, config: configDescriptor, layers: [layer]), mediaType: MediaType.ociManifest)
            try store.tag(manifest, as: try ImageReference(parsing: "snap:1"))
            _ = try store.collectGarbage()
            #expect(FileManager.default.fileExists(atPath: store.snapshotPath(layer.digest)))
            #expect(!FileManager.default.fileExists(atPath: orphan))
        }
    }
}
