import Archive
import Foundation
import ImageFormats
import OCI
import Store
import Support

/// A cold import into containerd in three. `ctr images import` unpacks only once its whole
/// archive is in, then one layer after the other; so the bottom layer goes ahead in an import of
/// its own, under a manifest and config cut to it, and is unpacked while a second import brings
/// the rest without unpacking. The third imports the images under their names from content the
/// node then holds, unpacking only the layers above the bottom one.
///
/// The first two go under staging names: what they bring is referenced from the moment it lands,
/// so containerd's garbage collector keeps it, and no pod sees a half-imported image under a name
/// it uses. The staging names are removed at the end.
struct ContainerdStages {
    let ahead: BottomLayerAhead
    let images: [StoredImage]
    /// Blobs the node holds: the second import leaves them out.
    let omitting: Set<Digest>
    /// Names no other preload picks (two preloads into one node must not remove each other's),
    /// led by the time they were made, so that a later preload can tell those a killed preload
    /// left from those a running one is using.
    let stagingTag = "\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString.prefix(8).lowercased())"
    static let stagingRepository = "localhost/spark-image-tool-staging"
    /// Longer than any preload takes.
    static let staleAfter: TimeInterval = 3600

    init?(_ images: [StoredImage], omitting: Set<Digest>) {
        guard let ahead = BottomLayerAhead(of: images, omitting: omitting) else { return nil }
        (self.ahead, self.images, self.omitting) = (ahead, images, omitting)
    }

    var bottomName: String { "\(Self.stagingRepository):\(stagingTag)-bottom" }
    var restNames: [String] { images.indices.map { "\(Self.stagingRepository):\(stagingTag)-\($0)" } }

    /// The staging names among `names` made over `staleAfter` before `now`: left by a preload that
    /// was killed between its imports.
    static func stale(_ names: [String], now: Date) -> [String] {
        names.filter { name in
            guard name.hasPrefix("\(stagingRepository):"), let made = name.dropFirst(stagingRepository.count + 1).split(separator: "-").first,
                  let seconds = TimeInterval(made) else { return false }
            return now.timeIntervalSince1970 - seconds > staleAfter
        }
    }

    /// The first import: the bottom layer under a manifest and config cut to it.
    func writeBottom(from store: Store, into sink: any ByteSink) throws {
        let config = try ahead.config()
        let configDescriptor = Descriptor(mediaType: ahead.image.manifest.config.mediaType,
                                          digest: Digest(sha256Hex: SHA256Hex.of(config)), size: Int64(config.count))
        let manifest = try CanonicalJSON.encode(ImageManifest(mediaType: ahead.image.manifestDescriptor.mediaType,
                                                              config: configDescriptor, layers: [ahead.layer]))
        let manifestDescriptor = Descriptor(mediaType: ahead.image.manifestDescriptor.mediaType,
                                            digest: Digest(sha256Hex: SHA256Hex.of(manifest)), size: Int64(manifest.count))
        try ArchiveDestination(store: store, format: .ociArchive).writeOCIArchive(
            [(bottomName, manifestDescriptor)], blobs: [ahead.layer.digest],
            made: [configDescriptor.digest: config, manifestDescriptor.digest: manifest], into: sink)
    }

    /// The second import: every image's manifest under a staging name, with every blob the node
    /// lacks but the bottom layer.
    func writeRest(from store: Store, into sink: any ByteSink) throws {
        let blobs = Set(images.flatMap { [$0.manifestDescriptor, $0.manifest.config] + $0.manifest.layers }.map(\.digest))
            .subtracting(omitting).subtracting([ahead.layer.digest])
        try ArchiveDestination(store: store, format: .ociArchive).writeOCIArchive(
            Array(zip(restNames, images.map(\.manifestDescriptor))), blobs: blobs.sorted(), into: sink)
    }
}
