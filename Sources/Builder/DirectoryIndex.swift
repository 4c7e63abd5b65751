import Archive
import OCI
import Store

/// The directories (and symlinks) of an image's file system, from its layers' tar headers.
/// A new layer writes the parents of what it adds with the metadata they already have, as
/// Docker's own layer diffs do: extractors create missing parents with their own defaults
/// (Docker 20.10 uses 0600, which locks out a non-root user), and a blind 0755 would clobber
/// directories such as /tmp.
struct DirectoryIndex: Sendable {
    struct Info: Codable, Sendable, Equatable {
        var mode: UInt32
        var uid: Int
        var gid: Int
        var isSymlink: Bool

        /// nil for files, which the index does not track.
        init?(_ item: SourceItem) {
            switch item.kind {
            case .directory: self.init(mode: item.mode, uid: item.uid, gid: item.gid, isSymlink: false)
            case .symlink: self.init(mode: 0o777, uid: 0, gid: 0, isSymlink: true)
            case .file: return nil
            }
        }

        init(mode: UInt32, uid: Int, gid: Int, isSymlink: Bool) {
            self.mode = mode
            self.uid = uid
            self.gid = gid
            self.isSymlink = isSymlink
        }
    }

    private(set) var entries: [String: Info] = [:]

    init() {}

    /// Reads the index of each layer from the store's cache, or from the layer itself once.
    init(layers: [Descriptor], store: Store) throws {
        for layer in layers {
            let listing = try Self.listing(of: layer.digest, store: store)
            for (path, info) in listing { entries[path] = info }
        }
    }

    /// Records what a layer built here holds, so its listing never has to be read back.
    static func remember(_ layerEntries: [LayerEntry], digest: Digest, store: Store) throws {
        let listing = layerEntries.reduce(into: [String: Info]()) { listing, entry in listing[entry.imagePath] = Info(entry.item) }
        try store.remember(listing, .directories, key: digest.encoded)
    }

    /// Lays a new layer's entries over the index; a file replaces whatever was at its path.
    mutating func add(_ layerEntries: [LayerEntry]) {
        for entry in layerEntries { entries[entry.imagePath] = Info(entry.item) }
    }

    /// `layerEntries` plus every missing parent directory, with the metadata the image already
    /// gives it (0755 root for new ones); parents that are symlinks in the image are left to it.
    func completingParents(of layerEntries: [LayerEntry]) -> [LayerEntry] {
        var present = Set(layerEntries.map(\.imagePath))
        var added: [LayerEntry] = []
        for entry in layerEntries {
            var components = entry.imagePath.split(separator: "/").dropLast()
            while !components.isEmpty {
                let parent = components.joined(separator: "/")
                components.removeLast()
                guard !present.contains(parent) else { continue }
                present.insert(parent)
                let info = entries[parent] ?? Info(mode: 0o755, uid: 0, gid: 0, isSymlink: false)
                guard !info.isSymlink else { continue }
                added.append(LayerEntry(imagePath: parent, item: SourceItem(
                    contextPath: parent, kind: .directory, mode: info.mode, uid: info.uid, gid: info.gid,
                    contents: .none, identity: "parent-directory", hardlinkKey: nil)))
            }
        }
        return (layerEntries + added).sorted { Array($0.imagePath.utf8).lexicographicallyPrecedes(Array($1.imagePath.utf8)) }
    }

    private static func listing(of digest: Digest, store: Store) throws -> [String: Info] {
        if let cached = store.cached([String: Info].self, .directories, key: digest.encoded) { return cached }
        var listing: [String: Info] = [:]
        let reader = try TarReader(path: store.blobPath(digest))
        while let entry = try reader.next() {
            let path = CopyPlanner.clean(entry.path)
            switch entry.kind {
            case .directory: listing[path] = Info(mode: entry.mode, uid: entry.uid, gid: entry.gid, isSymlink: false)
            case .symlink: listing[path] = Info(mode: 0o777, uid: 0, gid: 0, isSymlink: true)
            case .file, .hardlink, .special: break
            }
        }
        try store.remember(listing, .directories, key: digest.encoded)
        return listing
    }
}
