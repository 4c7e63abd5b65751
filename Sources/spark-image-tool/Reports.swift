import Distribution
import Foundation
import OCI
import Preload
import Store

// The documents `--json` prints. Keys are part of the interface: docs/json.md lists every one,
// and a key is only ever added, never renamed or removed, within a major version.

/// An image in the store (or just pushed): what a reference points at and, per platform, the
/// manifest, config and layers.
struct ImageReport: Codable, Equatable {
    var reference: String
    /// The manifest or index the reference points at.
    var digest: String
    var mediaType: String
    /// Bytes of that manifest or index.
    var size: Int64
    /// Set for a single-platform image (equal to `digest`).
    var manifestDigest: String?
    /// Set for a multi-platform image (equal to `digest`).
    var indexDigest: String?
    var platforms: [PlatformReport]
    /// Only from `build`: layers written now and layers found in the layer cache.
    var layersBuilt: Int?
    var layersCached: Int?

    init(reference: ImageReference, descriptor: Descriptor, store: Store) throws {
        self.reference = reference.description
        digest = descriptor.digest.description
        mediaType = descriptor.mediaType
        size = descriptor.size
        if MediaType.isIndex(descriptor.mediaType) {
            indexDigest = digest
            platforms = try store.readJSON(ImageIndex.self, descriptor.digest).manifests.map { PlatformReport(try store.image($0)) }
        } else {
            manifestDigest = digest
            platforms = [PlatformReport(try store.image(descriptor))]
        }
    }
}

struct PlatformReport: Codable, Equatable {
    /// OS/ARCH[/VARIANT].
    var platform: String
    var manifestDigest: String
    var configDigest: String
    /// Config and layers as stored and pushed (compressed).
    var size: Int64
    var layers: [BlobReport]

    init(_ image: StoredImage) {
        platform = image.config.platform.description
        manifestDigest = image.manifestDescriptor.digest.description
        configDigest = image.manifest.config.digest.description
        size = image.contentSize
        layers = image.manifest.layers.map { BlobReport(digest: $0.digest.description, size: $0.size, mediaType: $0.mediaType) }
    }
}

struct BlobReport: Codable, Equatable {
    var digest: String
    var size: Int64
    var mediaType: String
}

/// One repository's push: every blob with what happened to it.
struct PushReport: Codable, Equatable {
    /// The references pushed; one pushed by digest is `registry/repository@sha256:…`.
    var references: [String]
    var digest: String
    var uploaded: Int
    var mounted: Int
    var skipped: Int
    var uploadedBytes: Int64
    var blobs: [PushedBlobReport]

    init(_ result: PushResult) {
        references = result.references.map(\.description)
        digest = result.digest.description
        uploaded = result.uploadedBlobs
        mounted = result.mountedBlobs
        skipped = result.skippedBlobs
        uploadedBytes = result.uploadedBytes
        blobs = result.blobs.map { PushedBlobReport(digest: $0.digest.description, size: $0.size, outcome: $0.outcome.rawValue) }
    }
}

struct PushedBlobReport: Codable, Equatable {
    var digest: String
    var size: Int64
    /// `uploaded`, `mounted` or `skipped` (the registry had it).
    var outcome: String
}

/// What a preload sent to one daemon.
struct PreloadReport: Codable, Equatable {
    var daemon: String
    var bytesSent: Int64
    var images: [PreloadedImageReport]

    init(_ summary: PreloadSummary, daemon: String) {
        self.daemon = daemon
        bytesSent = summary.bytesSent
        images = summary.results.map(PreloadedImageReport.init)
    }
}

struct PreloadedImageReport: Codable, Equatable {
    var reference: String
    var imageID: String
    /// `skipped`, `tagged`, `delta`, `patched` or `full`.
    var outcome: String
    /// For `delta`: layers sent and layers in the image.
    var layersSent: Int?
    var layersTotal: Int?

    init(_ result: PreloadResult) {
        reference = result.reference.description
        imageID = result.imageID.description
        switch result.outcome {
        case .skipped: outcome = "skipped"
        case .tagged: outcome = "tagged"
        case .delta(let sent, let total): outcome = "delta"; layersSent = sent; layersTotal = total
        case .patched: outcome = "patched"
        case .full: outcome = "full"
        }
    }
}

/// `build --json`.
struct BuildReport: Codable, Equatable {
    var images: [ImageReport]
    /// With --push (or -X).
    var pushes: [PushReport]?
    /// With -m, --minikube, --docker-desktop, --host or --context.
    var preload: PreloadReport?
}

/// `push --json`.
struct PushCommandReport: Codable, Equatable {
    var pushes: [PushReport]
    /// Images that -r/-t named but the store does not have (docker-image-tool.sh skips them).
    var notFound: [String]
}

/// `images --json`.
struct ImagesReport: Codable, Equatable {
    var images: [ImageReport]
}

/// `verify --json`.
struct VerifyReport: Codable, Equatable {
    var consistent: Bool
    var problems: [String]
}

/// `index create --json`.
struct IndexReport: Codable, Equatable {
    var reference: String
    var digest: String
    var mediaType: String
    var size: Int64
    var manifests: [IndexEntryReport]

    init(_ merged: MergedIndex) {
        reference = merged.reference.description
        digest = merged.descriptor.digest.description
        mediaType = merged.descriptor.mediaType
        size = merged.descriptor.size
        manifests = merged.manifests.map {
            IndexEntryReport(platform: $0.platform?.description ?? "", digest: $0.digest.description, size: $0.size, mediaType: $0.mediaType)
        }
    }
}

struct IndexEntryReport: Codable, Equatable {
    var platform: String
    var digest: String
    var size: Int64
    var mediaType: String
}
