import OCI
import Store

/// One platform's image from the store, pulled into it first when missing (and kept there for
/// the next cluster): what every kind of preload starts from.
struct StoredOrPulled {
    let store: Store
    /// nil keeps preload to what is stored.
    let puller: (any ImageFetching)?
    let log: (@Sendable (String) -> Void)?

    func image(_ reference: ImageReference, platform: Platform) throws -> StoredImage {
        if let descriptor = try store.resolve(reference) {
            let image = try store.image(descriptor, platform: platform)
            if platform.matches(image.config.platform) { return image }
        }
        guard let puller else {
            throw PreloadError("\(reference.familiarDescription) is not in the local store", hint: "build or pull it first")
        }
        log?("\(reference.familiarDescription) is not in the local store for \(platform): pulling it")
        return try store.image(try puller.pull(reference, platform: platform), platform: platform)
    }
}
