import Archive
import Foundation
import OCI
import Store

/// A store in a fresh temporary directory, removed when the fixture goes, with layers and
/// images written the way the builder writes them: gzip layer blobs, config and manifest blobs.
final class ImageFixture {
    let directory: String
    let store: Store

    /// One entry of a layer and the bytes of a regular file.
    typealias Entry = (entry: TarEntry, contents: EntryContents)
    typealias Layer = (digest: Digest, diffID: Digest)

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("preload-tests-\(UUID().uuidString)").path
        store = try Store(root: "\(directory)/store")
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func layer(_ entries: [Entry]) throws -> Layer {
        var diffID: Digest?
        let digest = try store.ingest { path in
            let writer = try LayerWriter(outputPath: path, compression: .gzip(level: 1))
            for (entry, contents) in entries { try writer.append(entry, contents: contents) }
            let digests = try writer.finish()
            diffID = Digest(sha256Hex: digests.diffIDHex)
            return Digest(sha256Hex: digests.digestHex)
        }
        return (digest, diffID!)
    }

    /// An image of `layers`, bottom first; `history` goes into its config.
    func image(_ layers: [Layer], history: [History]? = nil) throws -> StoredImage {
        var config = ImageConfig(platform: .host)
        config.rootfs = RootFS(diffIDs: layers.map(\.diffID))
        config.history = history
        let configBytes = try CanonicalJSON.encode(config)
        let layerDescriptors = try layers.map { Descriptor(mediaType: MediaType.ociLayerGzip, digest: $0.digest, size: try store.blobSize($0.digest)) }
        let manifest = ImageManifest(mediaType: MediaType.ociManifest,
                                     config: Descriptor(mediaType: MediaType.ociConfig, digest: try store.putBlob(configBytes), size: Int64(configBytes.count)),
                                     layers: layerDescriptors)
        let manifestBytes = try CanonicalJSON.encode(manifest)
        let descriptor = Descriptor(mediaType: MediaType.ociManifest, digest: try store.putBlob(manifestBytes), size: Int64(manifestBytes.count))
        return try store.image(descriptor)
    }

    /// Files left in the store's ingest directory (a patch that was not returned must leave none).
    func ingestLeftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/ingest")
    }

    static func directory(_ path: String, mode: UInt32 = 0o755, uid: Int = 0) -> Entry {
        (TarEntry(path: path, kind: .directory, mode: mode, uid: uid), .none)
    }

    static func file(_ path: String, _ text: String) -> Entry {
        (TarEntry(path: path, kind: .file(size: Int64(text.utf8.count)), mode: 0o644), .bytes(Array(text.utf8)))
    }

    static func symlink(_ path: String, to target: String) -> Entry {
        (TarEntry(path: path, kind: .symlink(target: target), mode: 0o777), .none)
    }

    /// Every entry of a tar file with the bytes of its regular files.
    static func read(_ path: String) throws -> [(entry: TarEntry, bytes: [UInt8])] {
        let reader = try TarReader(path: path)
        var entries: [(entry: TarEntry, bytes: [UInt8])] = []
        while let entry = try reader.next() { entries.append((entry, try reader.readAll())) }
        return entries
    }
}
