import Archive
import Foundation
import OCI
import Store
import Support

/// Docker names a layer by its chain of parents, so after one jar changes it would load the
/// changed jar group and every layer after it: most of a Spark image. A patch instead puts one
/// layer on top of an image the daemon already holds, an earlier build whose file tree is known
/// (it was loaded from this store), that turns its tree into the new image's: every entry of the
/// layers the earlier build lacks, and whiteouts for what the new build dropped. The daemon then
/// gets the new image's config over the earlier layers plus the patch.
///
/// It is made only when that is exactly the new image's tree: the layers both builds share keep
/// their order, and no shared layer holds a file that a changed layer also holds.
enum PreloadPatch {
    /// Patches stacked on one image before a normal load is better than another layer.
    static let maximumDepth = 8
    static let historyPrefix = "spark-image-tool preload: patch"

    /// The patch from `earlier` to `image`, for a daemon image with config `daemonConfig` whose
    /// file tree is `earlier`'s, as the archive to load; nil when a patch would not give exactly
    /// `image`'s tree. The caller removes the layer file.
    static func make(from earlier: StoredImage, daemonConfig: ImageConfig, to image: StoredImage, store: Store) throws -> TopLayerArchive? {
        let earlierIDs = earlier.config.rootfs.diffIDs
        let newIDs = image.config.rootfs.diffIDs
        let daemonHistory = daemonConfig.history ?? []
        guard daemonHistory.filter({ $0.createdBy?.hasPrefix(historyPrefix) == true }).count < maximumDepth else { return nil }
        let shared = Set(earlierIDs).intersection(newIDs)
        guard earlierIDs.filter(shared.contains) == newIDs.filter(shared.contains) else { return nil }

        let earlierLayers = try zip(earlierIDs, earlier.manifest.layers).map { try LayerPaths(digest: $1.digest, diffID: $0, store: store) }
        let newLayers = try zip(newIDs, image.manifest.layers).map { try LayerPaths(digest: $1.digest, diffID: $0, store: store) }
        let added = newLayers.filter { !shared.contains($0.diffID) }
        let dropped = earlierLayers.filter { !shared.contains($0.diffID) }
        guard !added.isEmpty || !dropped.isEmpty else { return nil }
        let sharedFiles = newLayers.filter { shared.contains($0.diffID) }.reduce(into: Set<String>()) { $0.formUnion($1.files) }
        guard (added + dropped).allSatisfy({ $0.files.isDisjoint(with: sharedFiles) }) else { return nil }

        // Directories take the metadata of the topmost layer that has them, in the new image.
        let finalDirectories = newLayers.reduce(into: [String: PathInfo]()) { $0.merge($1.directories) { _, upper in upper } }
        let touched = (added + dropped).reduce(into: Set<String>()) { $0.formUnion($1.directories.keys) }
        let directories = touched.compactMap { path in finalDirectories[path].map { (path, $0) } }.sorted { $0.0 < $1.0 }
        let kept = newLayers.reduce(into: Set<String>()) { $0.formUnion($1.files); $0.formUnion($1.directories.keys) }
        let gone = dropped.reduce(into: Set<String>()) { $0.formUnion($1.files); $0.formUnion($1.directories.keys) }.subtracting(kept)
        let whiteouts = gone.filter { path in !Self.ancestors(of: path).contains(where: gone.contains) }.sorted()

        let layerPath = "\(store.root)/ingest/preload-patch-\(UUID().uuidString).tar"
        let digests: LayerDigests
        do {
            guard let written = try write(directories, added, whiteouts: whiteouts, to: layerPath, store: store) else {
                unlink(layerPath)
                return nil
            }
            digests = written
        } catch {
            unlink(layerPath)
            throw error
        }
        var config = image.config
        config.rootfs.diffIDs = daemonConfig.rootfs.diffIDs + [Digest(sha256Hex: digests.diffIDHex)]
        config.history = daemonHistory + [History(created: nil, createdBy: "\(historyPrefix) to \(image.manifestDescriptor.digest)")]
        return TopLayerArchive(config: try CanonicalJSON.encode(config), daemonLayers: daemonConfig.rootfs.diffIDs, layerPath: layerPath,
                               layerSize: digests.uncompressedSize)
    }

    /// An uncompressed layer tar: the directories the change touches with their final metadata,
    /// everything else of the added layers in image order, then the whiteouts. nil when a layer
    /// holds a device or FIFO, which this tool does not write.
    private static func write(_ directories: [(String, PathInfo)], _ added: [LayerPaths], whiteouts: [String],
                              to path: String, store: Store) throws -> LayerDigests? {
        let writer = try LayerWriter(outputPath: path, compression: .none)
        for (path, info) in directories {
            try writer.append(TarEntry(path: path, kind: .directory, mode: info.mode, uid: info.uid, gid: info.gid, mtime: 0))
        }
        for layer in added {
            let reader = try TarReader(path: store.blobPath(layer.digest))
            while let entry = try reader.next() {
                switch entry.kind {
                case .special: return nil
                case .directory: continue
                case .file: try writer.tar.append(entry) { write in try reader.readData(write) }
                case .symlink, .hardlink: try writer.append(entry)
                }
            }
        }
        for path in whiteouts {
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            let name = ".wh." + (path.split(separator: "/").last.map(String.init) ?? path)
            try writer.append(TarEntry(path: parent.isEmpty ? name : "\(parent)/\(name)", kind: .file(size: 0), mode: 0o644, uid: 0, gid: 0, mtime: 0))
        }
        return try writer.finish()
    }

    private static func ancestors(of path: String) -> [String] {
        var components = path.split(separator: "/").dropLast()
        var result: [String] = []
        while !components.isEmpty {
            result.append(components.joined(separator: "/"))
            components.removeLast()
        }
        return result
    }
}

/// The paths a layer holds, split into directories and everything else (the store's listing).
struct LayerPaths {
    let digest: Digest
    let diffID: Digest
    /// Directories (not symlinks) and their metadata.
    let directories: [String: PathInfo]
    /// Everything else: files, symlinks, hard links.
    let files: Set<String>

    init(digest: Digest, diffID: Digest, store: Store) throws {
        let listing = try store.listing(ofLayer: digest)
        self.digest = digest
        self.diffID = diffID
        directories = listing.directoriesAndSymlinks.filter { !$0.value.isSymlink }
        files = Set(listing.nonDirectories)
    }
}
