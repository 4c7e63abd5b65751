import Archive
import OCI
import Store

/// The directories (and symlinks) of an image's file system, from its layers' tar headers.
/// A new layer writes the parents of what it adds with the metadata they already have, as
/// Docker's own layer diffs do: extractors create missing parents with their own defaults
/// (Docker 20.10 uses 0600, which locks out a non-root user), and a blind 0755 would clobber
/// directories such as /tmp.
struct DirectoryIndex: Sendable {
    typealias Info = PathInfo

    /// One base layer's listing: from the store's cache, or being read by a scan.
    private enum BaseLayer {
        case listed([String: Info])
        case scanning(LayerListingScan)
    }

    /// Bottom to top.
    private var baseLayers: [BaseLayer] = []
    /// What the layers built here put at each path; nil for a file, which hides a directory.
    private var added: [String: Info?] = [:]

    /// A build's answers came from scans that bet on walk order and lost; build it again.
    struct ScanOrderMiss: Error {}

    init() {}

    /// Each base layer's listing from the store's cache, or from a scan of the layer started now.
    init(layers: [Descriptor], store: Store) {
        baseLayers = layers.map { layer in
            if let cached = store.cachedDirectories(ofLayer: layer.digest) { return .listed(cached) }
            return .scanning(LayerListingScan(digest: layer.digest, store: store))
        }
    }

    /// The directory or symlink at `path`: the build's own layers first, then the base's from the top.
    func info(at path: String) -> Info? {
        if let known = added[path] { return known }
        for layer in baseLayers.reversed() {
            switch layer {
            case .listed(let listing): if let info = listing[path] { return info }
            case .scanning(let scan): if let info = scan.info(at: path) { return info }
            }
        }
        return nil
    }

    /// Waits for the scans, caches their listings, and throws `ScanOrderMiss` when an early
    /// answer turned out wrong (a layer tar not in walk order).
    func confirm(store: Store) throws {
        var held = true
        for case .scanning(let scan) in baseLayers {
            let (listing, answersHeld) = try scan.finish()
            try store.rememberListing(listing, ofLayer: scan.digest)
            held = held && answersHeld
        }
        guard held else { throw ScanOrderMiss() }
    }

    /// Records what a layer built here holds, so its listings never have to be read back.
    static func remember(_ layerEntries: [LayerEntry], digest: Digest, store: Store) throws {
        guard !store.hasListing(ofLayer: digest) else { return }
        let directories = layerEntries.reduce(into: [String: Info]()) { listing, entry in listing[entry.imagePath] = Info(entry.item) }
        let files = layerEntries.filter { !$0.item.isDirectory }.map(\.imagePath)
        try store.rememberListing(LayerListing(directoriesAndSymlinks: directories, nonDirectories: files), ofLayer: digest)
    }

    /// Lays a new layer's entries over the index; a file replaces whatever was at its path.
    mutating func add(_ layerEntries: [LayerEntry]) {
        for entry in layerEntries { added[entry.imagePath] = .some(Info(entry.item)) }
    }

    /// `layerEntries` plus every missing parent directory, with the metadata the image already
    /// gives it (0755 root for new ones); parents that are symlinks in the image are left to it.
    func completingParents(of layerEntries: [LayerEntry]) -> [LayerEntry] {
        var present = Set(layerEntries.map(\.imagePath))
        var parents: [LayerEntry] = []
        for entry in layerEntries {
            var components = entry.imagePath.split(separator: "/").dropLast()
            while !components.isEmpty {
                let parent = components.joined(separator: "/")
                components.removeLast()
                guard !present.contains(parent) else { continue }
                present.insert(parent)
                let info = self.info(at: parent) ?? Info(mode: 0o755, uid: 0, gid: 0, isSymlink: false)
                guard !info.isSymlink else { continue }
                parents.append(LayerEntry(imagePath: parent, item: SourceItem(
                    contextPath: parent, kind: .directory, mode: info.mode, uid: info.uid, gid: info.gid,
                    contents: .none, identity: "parent-directory", hardlinkKey: nil)))
            }
        }
        return (layerEntries + parents).sorted { Array($0.imagePath.utf8).lexicographicallyPrecedes(Array($1.imagePath.utf8)) }
    }
}

extension PathInfo {
    /// nil for files, which the index does not track.
    init?(_ item: SourceItem) {
        switch item.kind {
        case .directory: self.init(mode: item.mode, uid: item.uid, gid: item.gid, isSymlink: false)
        case .symlink: self.init(mode: 0o777, uid: 0, gid: 0, isSymlink: true)
        case .file: return nil
        }
    }
}
