import Build
import OCI
import Store

// The `--json` documents of check, inspect, history and rebase (docs/json.md); the same
// promise as Reports.swift: keys are only ever added.

/// `check`: each image with what it lacks.
struct CheckReport: Codable, Equatable {
    var images: [CheckedImageReport]
}

struct CheckedImageReport: Codable, Equatable {
    var reference: String
    /// No findings.
    var ok: Bool
    var findings: [ImageCheck]
}

/// `inspect`: one platform's image, its run settings, annotations and layers.
struct InspectReport: Codable, Equatable {
    var reference: String
    /// The platform's manifest (for an index: the one --platform picked).
    var manifestDigest: String
    var mediaType: String
    var configDigest: String
    var platform: String
    /// Config and layers, compressed.
    var size: Int64
    var user: String?
    var workingDir: String?
    var entrypoint: [String]?
    var cmd: [String]?
    var env: [String]
    var labels: [String: String]
    var annotations: [String: String]
    /// Bottom first, each with the instruction that made it.
    var layers: [HistoryLayerReport]

    init(reference: ImageReference, image: StoredImage) {
        let container = image.config.config ?? ContainerConfig()
        self.reference = reference.description
        manifestDigest = image.manifestDescriptor.digest.description
        mediaType = image.manifestDescriptor.mediaType
        configDigest = image.manifest.config.digest.description
        platform = image.config.platform.description
        size = image.contentSize
        user = container.user
        workingDir = container.workingDir
        entrypoint = container.entrypoint
        cmd = container.cmd
        env = container.env ?? []
        labels = container.labels ?? [:]
        annotations = image.manifest.annotations ?? [:]
        layers = HistoryReport.entries(of: image).compactMap { entry in
            entry.layer.map { HistoryLayerReport(digest: $0.digest, size: $0.size, mediaType: $0.mediaType, createdBy: entry.createdBy) }
        }
    }
}

struct HistoryLayerReport: Codable, Equatable {
    var digest: String
    var size: Int64
    var mediaType: String
    var createdBy: String
}

/// `history`: every history entry of the config, oldest first (the text lists newest first).
struct HistoryReport: Codable, Equatable {
    var reference: String
    var history: [HistoryEntryReport]

    init(reference: ImageReference, image: StoredImage) {
        self.reference = reference.description
        history = Self.entries(of: image)
    }

    static func entries(of image: StoredImage) -> [HistoryEntryReport] {
        let created = (image.config.history ?? []).map(\.created)
        return zip(Root.History.steps(of: image), created).map { step, created in
            HistoryEntryReport(createdBy: step.createdBy, created: created,
                               layer: step.layer.map { BlobReport(digest: $0.digest.description, size: $0.size, mediaType: $0.mediaType) })
        }
    }
}

struct HistoryEntryReport: Codable, Equatable {
    var createdBy: String
    var created: String?
    /// Left out for an entry that made no layer (ENV, USER, …).
    var layer: BlobReport?
}

/// `rebase`: the rebased image, the base it now stands on, and the push (with --push).
struct RebaseReport: Codable, Equatable {
    var image: ImageReport
    var base: String
    var pushes: [PushReport]?
}
