import Archive
@testable import Build
import Foundation
import OCI
import Store
import Testing

/// The background scan of a base layer leaves the layer's whole listing in the store, so the
/// image checks at the end of a build do not read the base's tar a second time.
struct LayerListingScanTests {
    @Test func confirmedScanLeavesTheFullListingThatTheTarGives() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scan-tests-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scanned = try Store(root: "\(directory)/scanned")
        let digest = try Self.layer(in: scanned)

        let index = DirectoryIndex(layers: [Self.descriptor(digest)], store: scanned)
        try index.confirm(store: scanned)
        #expect(scanned.hasListing(ofLayer: digest))

        // A second store with the same blob and no cached listing reads it from the tar.
        let fromTar = try Store(root: "\(directory)/from-tar")
        #expect(try Self.layer(in: fromTar) == digest)
        let expected = try fromTar.listing(ofLayer: digest)
        let actual = try scanned.listing(ofLayer: digest)
        #expect(actual.nonDirectories == expected.nonDirectories)
        #expect(actual.directoriesAndSymlinks == expected.directoriesAndSymlinks)
        #expect(actual.nonDirectories == ["etc/hosts", "etc/passwd", "usr/bin/java", "usr/bin/sh", "usr/lib/jvm"])
    }

    private static func layer(in store: Store) throws -> Digest {
        let entries: [(TarEntry, EntryContents)] = [
            (TarEntry(path: "etc/", kind: .directory, mode: 0o755), .none),
            (TarEntry(path: "etc/passwd", kind: .file(size: 5), mode: 0o664), .bytes(Array("root\n".utf8))),
            (TarEntry(path: "etc/hosts", kind: .hardlink(target: "etc/passwd"), mode: 0o664), .none),
            (TarEntry(path: "usr/", kind: .directory, mode: 0o755), .none),
            (TarEntry(path: "usr/bin/", kind: .directory, mode: 0o755, uid: 2, gid: 3), .none),
            (TarEntry(path: "usr/bin/java", kind: .symlink(target: "/usr/lib/jvm/bin/java"), mode: 0o777), .none),
            (TarEntry(path: "usr/bin/sh", kind: .file(size: 0), mode: 0o755), .none),
            (TarEntry(path: "usr/lib/", kind: .directory, mode: 0o755), .none),
            (TarEntry(path: "usr/lib/jvm", kind: .symlink(target: "jvm-17"), mode: 0o777), .none),
        ]
        return try store.ingest { path in
            let writer = try LayerWriter(outputPath: path, compression: .gzip(level: 1))
            for (entry, contents) in entries { try writer.append(entry, contents: contents) }
            return Digest(sha256Hex: try writer.finish().digestHex)
        }
    }

    private static func descriptor(_ digest: Digest) -> Descriptor {
        Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: 0)
    }
}
