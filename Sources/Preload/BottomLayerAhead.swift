import ImageFormats
import OCI
import Store

/// An image's bottom layer sent ahead of the rest under a config cut to it, so that the node
/// registers (a Docker daemon) or unpacks (a containerd) the base's root file system, the longest
/// single step, while the rest streams in. Both preloaders stage a cold load this way.
struct BottomLayerAhead {
    let image: StoredImage
    let layer: Descriptor
    let diffID: Digest

    /// The first image's bottom layer, or nil when going ahead would overlap nothing: the node
    /// holds that layer, nothing else is sent, or the blob sits higher up in an image too (the
    /// rest would then list it as held above another layer).
    init?(of images: [StoredImage], omitting: Set<Digest>) {
        guard let image = images.first, let bottom = image.manifest.layers.first,
              let diffID = image.config.rootfs.diffIDs.first, !omitting.contains(bottom.digest),
              images.contains(where: { $0.manifest.layers.contains { $0.digest != bottom.digest && !omitting.contains($0.digest) } }),
              !images.contains(where: { $0.manifest.layers.dropFirst().contains { $0.digest == bottom.digest } }) else { return nil }
        (self.image, self.layer, self.diffID) = (image, bottom, diffID)
    }

    /// A config of the bottom layer alone, of the image's platform, whose history names the image.
    func config() throws -> [UInt8] {
        var cut = ImageConfig(platform: image.config.platform)
        cut.rootfs = RootFS(diffIDs: [diffID])
        cut.history = [History(created: nil, createdBy: "\(Self.history) \(image.manifestDescriptor.digest)")]
        return try CanonicalJSON.encode(cut)
    }

    static let history = "spark-image-tool preload: loaded ahead, the bottom layer of"
}
