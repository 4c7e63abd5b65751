import Archive
import Foundation
import OCI
import SBOM
import Store
import Support

/// `sbom IMAGE` and `build --sbom`: the software in a stored image, read layer by layer from the
/// store as a stream (one jar's small entries in memory at a time), whiteouts applied, as an
/// SPDX 2.3 document.
public struct ImageInventory: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// The SPDX document of one platform's image.
    public func document(_ image: StoredImage, name: String, tag: String?) throws -> [UInt8] {
        let created = image.config.created.flatMap(Self.date).map { Int64($0.timeIntervalSince1970) } ?? 0
        let subject = ImageSubject(name: name, tag: tag, digest: image.manifestDescriptor.digest.description, created: created)
        return try SPDXDocument(image: subject, packages: packages(in: image.manifest.layers)).encoded()
    }

    /// An RFC 3339 time as configs carry it, with or without fractions of a second.
    private static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions.insert(.withFractionalSeconds)
        return formatter.date(from: text)
    }

    /// Every platform's image under `descriptor` (itself, or each manifest of an index) with its document.
    public func documents(_ descriptor: Descriptor, name: String, tag: String?) throws -> [(subject: Descriptor, document: [UInt8])] {
        let manifests = MediaType.isIndex(descriptor.mediaType) ? try store.readJSON(ImageIndex.self, descriptor.digest).manifests : [descriptor]
        return try manifests.map { manifest in (manifest, try document(try store.image(manifest), name: name, tag: tag)) }
    }

    /// The packages of the tree `layers` make: each layer's finds replace what lower layers had
    /// at the same path, and its whiteouts remove them.
    func packages(in layers: [Descriptor]) throws -> [SoftwarePackage] {
        var found: [String: [SoftwarePackage]] = [:]
        for layer in layers {
            let reader = try TarReader(path: store.blobPath(layer.digest))
            while let entry = try reader.next() {
                let path = ImagePath.relative(entry.path)
                if let removed = Whiteout(path) {
                    found = found.filter { !removed.covers($0.key) }
                    continue
                }
                found[path] = nil
                guard case .file(let size) = entry.kind else { continue }
                let packages = try PackageFiles.read(path: path, size: size, from: reader)
                if !packages.isEmpty { found[path] = packages }
            }
        }
        return found.values.flatMap { $0 }
    }
}

/// What a whiteout entry removes from the layers below: one path and what is under it, or
/// (opaque) everything under its directory.
struct Whiteout {
    let prefix: String
    let exact: String?

    init?(_ path: String) {
        let (directory, name) = path.lastIndex(of: "/").map { (String(path[..<$0]), String(path[path.index(after: $0)...])) } ?? ("", path)
        guard name.hasPrefix(".wh.") else { return nil }
        if name == ".wh..wh..opq" {
            (prefix, exact) = (directory.isEmpty ? "" : directory + "/", nil)
        } else {
            let gone = ImagePath.join(directory, String(name.dropFirst(4)))
            (prefix, exact) = (gone + "/", gone)
        }
    }

    func covers(_ path: String) -> Bool { path == exact || path.hasPrefix(prefix) }
}
