import OCI
import Store
import Support

/// An image whose blobs are all in the store, brought there from a file format or a registry.
public struct SourcedImage: Sendable {
    public var config: ImageConfig
    public var layers: [Descriptor]
    public var description: String
    /// The reference and manifest digest it was found under, when it has them (registry and
    /// store images): what the built image's `base.name`/`base.digest` annotations name.
    public var origin: (reference: ImageReference, digest: Digest)?

    public init(config: ImageConfig, layers: [Descriptor], description: String, origin: (reference: ImageReference, digest: Digest)? = nil) {
        self.config = config
        self.layers = layers
        self.description = description
        self.origin = origin
    }
}

/// The reading half of an image format: brings one platform's image into the store, every blob
/// checked against its digest. ArchiveDestination is the writing half.
public protocol ImageSource: Sendable {
    func importImage(into store: Store, platform: Platform) throws -> SourcedImage
}

/// Bytes an import has read so far, across its blobs, told to whoever shows a progress bar.
final class ReadProgress: Sendable {
    private let total = Locked<Int64>(0)
    private let report: (@Sendable (Int64) -> Void)?

    init(_ report: (@Sendable (Int64) -> Void)?) { self.report = report }

    func add(_ count: Int) {
        guard let report else { return }
        report(total.update { total in total += Int64(count); return total })
    }
}

public enum ImageFormatFailure {}

/// A file that is not the image format it was named as, or an image it does not hold.
public typealias ImageFormatError = ModuleError<ImageFormatFailure>

/// Blobs of an image read from outside the store (an archive's small files), each checked
/// against its digest before it is believed.
struct VerifiedBlobs {
    let origin: String
    let bytes: (Digest) -> [UInt8]?

    func read(_ digest: Digest) throws -> [UInt8] {
        guard let bytes = bytes(digest) else {
            throw ImageFormatError("\(origin) lacks the blob \(digest) that its index or manifest lists; the archive is incomplete")
        }
        guard SHA256Hex.of(bytes) == digest.encoded, digest.algorithm == "sha256" else {
            throw ImageFormatError("\(origin): the blob \(digest) does not hash to its digest; the archive is corrupt")
        }
        return bytes
    }

    func json<T: Decodable>(_ type: T.Type, _ digest: Digest) throws -> T {
        do { return try CanonicalJSON.decode(type, from: try read(digest)) } catch let error as ImageFormatError { throw error } catch {
            throw ImageFormatError("\(origin): the blob \(digest) is not a valid \(type): \(error)")
        }
    }

    /// The manifest and config `descriptor` names for `platform` (through an index if it is one).
    func image(_ descriptor: Descriptor, platform: Platform) throws -> (manifest: ImageManifest, config: ImageConfig) {
        if MediaType.isIndex(descriptor.mediaType) {
            let index = try json(ImageIndex.self, descriptor.digest)
            guard let entry = index.manifests.first(where: { $0.platform.map(platform.matches) ?? false }) else {
                let available = index.manifests.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw ImageFormatError("\(origin) has no image for \(platform)", hint: "it has: \(available)")
            }
            return try image(entry, platform: platform)
        }
        let manifest = try json(ImageManifest.self, descriptor.digest)
        return (manifest, try json(ImageConfig.self, manifest.config.digest))
    }
}

/// The manifest an index offers for `tag` (its ref.name, or a full reference's tag), or its
/// only one: how `oci-layout:DIR[:tag]` and `oci-archive:FILE[:tag]` pick an image.
func pick(from index: ImageIndex, tag: String?, origin: String) throws -> Descriptor {
    let names = index.manifests.compactMap { $0.annotations?[Annotation.refName] }
    if let tag {
        let match = index.manifests.first { entry in
            let name = entry.annotations?[Annotation.refName]
            return name == tag || name.flatMap { try? ImageReference(parsing: $0) }?.tag == tag && index.manifests.count <= 1
        }
        guard let match else {
            throw ImageFormatError("\(origin) has no image named '\(tag)'", hint: "it has: \(names.isEmpty ? "no named images" : names.joined(separator: ", "))")
        }
        return match
    }
    guard index.manifests.count == 1 else {
        throw ImageFormatError("\(origin) holds \(index.manifests.count) images; say which with :NAME", hint: "names: \(names.joined(separator: ", "))")
    }
    return index.manifests[0]
}
