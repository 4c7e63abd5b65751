import Archive
import Foundation
import OCI
import Support

/// A directory or symlink of an image's file system, with the metadata a layer gives it: the
/// one listing type of build (parent directories of new layers) and preload (patch layers).
public struct PathInfo: Codable, Sendable, Equatable {
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    public var isSymlink: Bool

    public init(mode: UInt32, uid: Int, gid: Int, isSymlink: Bool) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.isSymlink = isSymlink
    }

    /// nil for files and the rest, which listings track only by path.
    public init?(_ entry: TarEntry) {
        switch entry.kind {
        case .directory: self.init(mode: entry.mode, uid: entry.uid, gid: entry.gid, isSymlink: false)
        case .symlink: self.init(mode: 0o777, uid: 0, gid: 0, isSymlink: true)
        case .file, .hardlink, .special: return nil
        }
    }
}

/// Every path of one layer: its directories and symlinks with their metadata, and the paths of
/// everything but directories. Read once from the layer's tar headers, then cached.
public struct LayerListing: Sendable, Equatable {
    public var directoriesAndSymlinks: [String: PathInfo]
    /// Files, symlinks and hard links, sorted.
    public var nonDirectories: [String]

    public init(directoriesAndSymlinks: [String: PathInfo], nonDirectories: [String]) {
        self.directoriesAndSymlinks = directoriesAndSymlinks
        self.nonDirectories = nonDirectories
    }

    /// Accumulates a listing entry by entry, in the tar's order.
    public mutating func add(_ entry: TarEntry) {
        let path = ImagePath.relative(entry.path)
        let info = PathInfo(entry)
        directoriesAndSymlinks[path] = info
        if info?.isSymlink != false { nonDirectories.append(path) }
    }
}

extension Store {
    private static let directories = CacheShelf<[String: PathInfo]>("directories", lifetime: .whileBlobExists)
    private static let files = CacheShelf<[String]>("files", lifetime: .whileBlobExists)

    /// The directories and symlinks of layer `digest`, when cached.
    public func cachedDirectories(ofLayer digest: Digest) -> [String: PathInfo]? {
        cached(Self.directories, key: digest.encoded)
    }

    public func rememberDirectories(_ listing: [String: PathInfo], ofLayer digest: Digest) throws(StoreError) {
        try remember(listing, on: Self.directories, key: digest.encoded)
    }

    public func hasListing(ofLayer digest: Digest) -> Bool {
        isCached(Self.directories, key: digest.encoded) && isCached(Self.files, key: digest.encoded)
    }

    public func rememberListing(_ listing: LayerListing, ofLayer digest: Digest) throws(StoreError) {
        try rememberDirectories(listing.directoriesAndSymlinks, ofLayer: digest)
        try remember(listing.nonDirectories.sorted(), on: Self.files, key: digest.encoded)
    }

    /// The full listing of a stored layer: from the cache, or once from its tar headers.
    public func listing(ofLayer digest: Digest) throws -> LayerListing {
        if let directories = cachedDirectories(ofLayer: digest), let files = cached(Self.files, key: digest.encoded) {
            return LayerListing(directoriesAndSymlinks: directories, nonDirectories: files)
        }
        var listing = LayerListing(directoriesAndSymlinks: [:], nonDirectories: [])
        let reader = try TarReader(path: blobPath(digest))
        while let entry = try reader.next() { listing.add(entry) }
        listing.nonDirectories.sort()
        try rememberListing(listing, ofLayer: digest)
        return listing
    }
}
