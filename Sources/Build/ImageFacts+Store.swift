import Archive
import OCI
import Store
import Support

extension ImageFacts {
    /// The final tree of `layers` from the store's layer listings, whiteouts applied, and the
    /// topmost layer's /etc/passwd.
    init(layers: [Descriptor], config: ContainerConfig?, store: Store) throws {
        var paths = Set<String>()
        var passwdLayer: Digest?
        for layer in layers {
            let listing = try store.listing(ofLayer: layer.digest)
            for path in listing.nonDirectories { Self.apply(path, to: &paths) }
            paths.formUnion(listing.directoriesAndSymlinks.keys)
            if listing.nonDirectories.contains("etc/passwd") { passwdLayer = layer.digest }
        }
        self.init(paths: paths, config: config, passwd: try passwdLayer.flatMap { try Self.passwd(inLayer: $0, store: store) })
    }

    /// A layer entry over the tree below: a whiteout removes what it names (an opaque one, what
    /// its directory held), anything else is added.
    private static func apply(_ path: String, to paths: inout Set<String>) {
        guard let whiteout = Whiteout(path) else {
            paths.insert(path)
            return
        }
        paths = paths.filter { !whiteout.covers($0) }
    }

    private static let passwdFiles = CacheShelf<PasswdFile>("passwd", lifetime: .whileBlobExists)

    /// /etc/passwd as layer `digest` holds it: read once from the layer's tar, then cached.
    private static func passwd(inLayer digest: Digest, store: Store) throws -> PasswdFile? {
        if let cached = store.cached(passwdFiles, key: digest.encoded) { return cached }
        let reader = try TarReader(path: store.blobPath(digest))
        while let entry = try reader.next() {
            guard ImagePath.relative(entry.path) == "etc/passwd", case .file(let size) = entry.kind, size <= 1 << 20 else { continue }
            let file = PasswdFile(text: String(decoding: try reader.readAll(), as: UTF8.self), mode: entry.mode)
            try store.remember(file, on: passwdFiles, key: digest.encoded)
            return file
        }
        return nil
    }
}
