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
/// it uses. The staging names are removed at the end, with the `sha256:<config>` name that
/// Kubernetes' CRI plugin gives every image created in `k8s.io` (for the cut config, nothing else
/// has it).
struct ContainerdStages {
    let ahead: BottomLayerAhead
    let images: [StoredImage]
    /// Blobs the node holds: the second import leaves them out.
    let omitting: Set<Digest>
    let cutConfig: (descriptor: Descriptor, bytes: [UInt8])
    let cutManifest: (descriptor: Descriptor, bytes: [UInt8])
    /// Names no other preload picks (two preloads into one node must not remove each other's),
    /// led by the time they were made, so that a later preload can tell those a killed preload
    /// left from those a running one is using.
    let stagingTag = "\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString.prefix(8).lowercased())"
    static let stagingRepository = "localhost/spark-image-tool-staging"
    /// Longer than any preload takes.
    static let staleAfter: TimeInterval = 3600

    init?(_ images: [StoredImage], omitting: Set<Digest>) throws {
        guard let ahead = BottomLayerAhead(of: images, omitting: omitting) else { return nil }
        (self.ahead, self.images, self.omitting) = (ahead, images, omitting)
        let config = try ahead.config()
        cutConfig = (Descriptor(mediaType: ahead.image.manifest.config.mediaType, digest: Digest(sha256Hex: SHA256Hex.of(config)),
                                size: Int64(config.count)), config)
        let mediaType = ahead.image.manifestDescriptor.mediaType
        let manifest = try CanonicalJSON.encode(ImageManifest(mediaType: mediaType, config: cutConfig.descriptor, layers: [ahead.layer]))
        cutManifest = (Descriptor(mediaType: mediaType, digest: Digest(sha256Hex: SHA256Hex.of(manifest)), size: Int64(manifest.count)), manifest)
    }

    var bottomName: String { "\(Self.stagingRepository):\(stagingTag)-bottom" }
    var restNames: [String] { images.indices.map { "\(Self.stagingRepository):\(stagingTag)-\($0)" } }
    /// What goes at the end: the staging names and the CRI plugin's name for the cut image.
    var namesToRemove: [String] { [bottomName] + restNames + [cutConfig.descriptor.digest.description] }

    static func isStaging(_ name: String) -> Bool { name.hasPrefix("\(stagingRepository):") }

    /// The staging names among `rows` made over `staleAfter` before `now` (left by a preload that
    /// was killed between its imports), with the CRI plugin's `sha256:` name of a stale bottom's
    /// cut image.
    static func stale(_ rows: [(name: String, digest: Digest)], now: Date) -> [String] {
        let staleRows = rows.filter { row in
            guard isStaging(row.name), let made = row.name.dropFirst(stagingRepository.count + 1).split(separator: "-").first,
                  let seconds = TimeInterval(made) else { return false }
            return now.timeIntervalSince1970 - seconds > staleAfter
        }
        let cutManifests = Set(staleRows.filter { $0.name.hasSuffix("-bottom") }.map(\.digest))
        return rows.filter { row in
            staleRows.contains { $0.name == row.name } || (row.name.hasPrefix("sha256:") && cutManifests.contains(row.digest))
        }.map(\.name)
    }

    /// The first import: the bottom layer under a manifest and config cut to it.
    func writeBottom(from store: Store, into sink: any ByteSink) throws {
        try ArchiveDestination(store: store, format: .ociArchive).writeOCIArchive(
            [(bottomName, cutManifest.descriptor)], blobs: [ahead.layer.digest],
            made: [cutConfig.descriptor.digest: cutConfig.bytes, cutManifest.descriptor.digest: cutManifest.bytes], into: sink)
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
