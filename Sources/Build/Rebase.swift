import Foundation
import ImageFormats
import OCI
import Store

/// `rebase`: swaps the base layers of a built image for a newer base of the same lineage (a
/// patched JRE), keeping every layer the build added as the same blobs, as crane's rebase does.
public struct Rebase: Sendable {
    public let store: Store
    public let settings: LayerSettings
    public let puller: (any ImageFetching)?

    public init(store: Store, settings: LayerSettings, puller: (any ImageFetching)?) {
        self.store = store
        self.settings = settings
        self.puller = puller
    }

    /// Rebases `image` onto `newBase` and tags the result as `target`. The old base is
    /// `oldBase` when given, else the one the image's `base.name` annotation names.
    public func rebase(_ image: ImageReference, onto newBase: String, oldBase: String?, as target: ImageReference,
                       platform: Platform) throws -> Descriptor {
        let built = try store.image(image, platform: platform)
        guard let oldName = oldBase ?? built.manifest.annotations?[Annotation.baseName] else {
            throw BuildError("\(image.familiarDescription) does not say which base it was built on",
                             hint: "name it with --old-base (the --base the image was built with)")
        }
        let importer = BaseImporter(store: store, settings: settings, platform: built.config.platform, puller: puller, pullPolicy: .missing)
        let old = try importer.importBase(try BaseSource(parsing: oldName))
        let new = try importer.importBase(try BaseSource(parsing: newBase))
        try Self.checkDropIn(built: built, old: old, new: new, image: image)
        var manifest = built.manifest
        manifest.layers = new.layers + built.manifest.layers.dropFirst(old.layers.count)
        manifest.config = try store.putJSON(Self.config(of: built.config, old: old.config, new: new.config, oldLayers: old.layers.count),
                                            mediaType: manifest.config.mediaType)
        var annotations = manifest.annotations ?? [:]
        annotations[Annotation.baseName] = new.origin?.reference.description
        annotations[Annotation.baseDigest] = new.origin?.digest.description
        manifest.annotations = annotations
        let descriptor = try store.putJSON(manifest, mediaType: built.manifestDescriptor.mediaType)
        try store.tag(descriptor, as: target)
        return descriptor
    }

    /// The new base must run the same platform, and the image must really start with the old
    /// base's layers (same diff_ids, in order).
    static func checkDropIn(built: StoredImage, old: SourcedImage, new: SourcedImage, image: ImageReference) throws {
        guard new.config.platform.matches(built.config.platform) else {
            throw BuildError("the new base is \(new.config.platform), but \(image.familiarDescription) is \(built.config.platform)",
                             hint: "choose the new base's platform with the base's own index or --platform")
        }
        let oldIDs = old.config.rootfs.diffIDs
        guard built.config.rootfs.diffIDs.starts(with: oldIDs) else {
            throw BuildError("\(image.familiarDescription) was not built on \(old.description): its first \(oldIDs.count) layers differ",
                             hint: "name the base it was built with in --old-base")
        }
    }

    /// The image's config over the new base: diff_ids and history of the new base then the
    /// build's own; fields the build did not change from the old base take the new base's value.
    static func config(of image: ImageConfig, old: ImageConfig, new: ImageConfig, oldLayers: Int) -> ImageConfig {
        var config = image
        config.rootfs.diffIDs = new.rootfs.diffIDs + image.rootfs.diffIDs.dropFirst(oldLayers)
        config.history = (new.history ?? []) + (image.history ?? []).dropFirst(old.history?.count ?? 0)
        let mine = image.config ?? ContainerConfig(), was = old.config ?? ContainerConfig(), now = new.config ?? ContainerConfig()
        var merged = mine
        merged.env = mergedEnv(mine: mine.env ?? [], was: was.env ?? [], now: now.env ?? [])
        if mine.user == was.user { merged.user = now.user }
        if mine.workingDir == was.workingDir { merged.workingDir = now.workingDir }
        if mine.entrypoint == was.entrypoint && mine.cmd == was.cmd {
            merged.entrypoint = now.entrypoint
            merged.cmd = now.cmd
        }
        config.config = merged
        return config
    }

    /// The new base's environment, with every variable the build set (or changed) laid over it.
    static func mergedEnv(mine: [String], was: [String], now: [String]) -> [String] {
        let inherited = Set(was)
        var env = now
        for entry in mine where !inherited.contains(entry) {
            let key = entry.prefix { $0 != "=" }
            if let index = env.firstIndex(where: { $0.prefix { $0 != "=" } == key }) { env[index] = entry } else { env.append(entry) }
        }
        return env
    }
}
