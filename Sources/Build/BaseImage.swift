import Foundation
import ImageFormats
import OCI
import Store
import Support

/// Where a base image comes from, as written after FROM or with --base.
enum BaseSource: Equatable, Sendable {
    case scratch
    case ociLayout(directory: String, tag: String?)
    case ociArchive(file: String, tag: String?)
    case dockerArchive(file: String)
    case rootfs(file: String)
    case reference(ImageReference)

    init(parsing text: String) throws(BuildError) {
        if text == "scratch" {
            self = .scratch
            return
        }
        let transports = ["oci-layout", "oci-archive", "docker-archive", "rootfs"]
        if let colon = text.firstIndex(of: ":"), transports.contains(String(text[..<colon])) {
            let rest = String(text[text.index(after: colon)...])
            guard !rest.isEmpty else { throw BuildError("base '\(text)' names no path", hint: "write \(text)/path/to/image") }
            switch text[..<colon] {
            case "oci-layout": let (path, tag) = Self.splitTag(rest); self = .ociLayout(directory: path, tag: tag)
            case "oci-archive": let (path, tag) = Self.splitTag(rest); self = .ociArchive(file: path, tag: tag)
            case "docker-archive": self = .dockerArchive(file: rest)
            default: self = .rootfs(file: rest)
            }
            return
        }
        do { self = .reference(try ImageReference(parsing: text)) } catch {
            throw BuildError("base image '\(text)' is neither an image reference nor one of scratch, oci-layout:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE, rootfs:FILE.tar[.gz]: \(error)")
        }
    }

    /// `path:tag`, where a colon inside the last path component starts the tag.
    private static func splitTag(_ text: String) -> (String, String?) {
        guard let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") else { return (text, nil) }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}

extension BaseSource: CustomStringConvertible {
    /// As the user wrote it.
    var description: String {
        switch self {
        case .scratch: "scratch"
        case .ociLayout(let directory, let tag): "oci-layout:\(directory)" + (tag.map { ":\($0)" } ?? "")
        case .ociArchive(let file, let tag): "oci-archive:\(file)" + (tag.map { ":\($0)" } ?? "")
        case .dockerArchive(let file): "docker-archive:\(file)"
        case .rootfs(let file): "rootfs:\(file)"
        case .reference(let reference): reference.familiarDescription
        }
    }
}

/// A base image whose blobs are all in the store.
typealias BaseImage = SourcedImage

extension BaseImage {
    static func scratch(platform: Platform, created: String) -> BaseImage {
        var config = ImageConfig(platform: platform, created: created)
        config.history = []
        return BaseImage(config: config, layers: [], description: "scratch")
    }
}

/// When a base image named by reference is fetched from its registry (`--pull`).
public enum PullPolicy: String, Sendable, CaseIterable {
    case always, missing, never
}

/// Brings base images into the store from wherever they are: files through ImageFormats'
/// sources, registries through the fetcher the caller hands in.
struct BaseImporter: Sendable {
    let store: Store
    let settings: LayerSettings
    let platform: Platform
    let puller: (any ImageFetching)?
    let pullPolicy: PullPolicy
    /// Hears how long each import or pull took (and, for a rootfs, its bytes as they go).
    var events: BuildEventHandler = { _ in }

    func importBase(_ source: BaseSource) throws -> BaseImage {
        let created = ImageAssembler.timestamp(settings.epoch)
        switch source {
        case .scratch:
            return .scratch(platform: platform, created: created)
        case .reference(let reference):
            let image = try storedOrPulled(reference)
            return BaseImage(config: image.config, layers: image.manifest.layers, description: reference.familiarDescription,
                             origin: (reference, image.manifestDescriptor.digest))
        case .ociLayout(let directory, let tag):
            return try importFile(source) { OCILayoutSource(directory: directory, tag: tag, progress: $0) }
        case .ociArchive(let file, let tag):
            return try importFile(source) { OCIArchiveSource(file: file, tag: tag, progress: $0) }
        case .dockerArchive(let file):
            return try importFile(source) { DockerArchiveSource(file: file, layers: settings.layerImport, progress: $0) }
        case .rootfs(let file):
            return try importFile(source) { RootfsSource(file: file, layer: settings.layerImport, created: created, progress: $0) }
        }
    }

    /// A base from a file (`format` makes its reader, given the progress to report to), as a
    /// task with the bytes read as they go; a rootfs the layer cache already holds reads nothing.
    private func importFile(_ source: BaseSource, _ format: (@escaping @Sendable (Int64) -> Void) -> any ImageSource) throws -> BaseImage {
        let events = events
        let read = Locked<Int64>(0)
        let file = format { bytes in
            read.update { $0 = bytes }
            events(.taskProgress(task: "base", bytes: bytes))
        }
        return try BuildEvent.task("base", "importing \(source)", events: events) {
            try file.importImage(into: store, platform: platform)
        } finished: { image in
            let reused = if case .rootfs = source, read.value == 0 { " (layer cache)" } else { "" }
            return ("imported \(image.description)\(reused)", image.layers.totalSize)
        }
    }

    /// The stored image when it serves this platform (and --pull allows it), else a fresh pull.
    private func storedOrPulled(_ reference: ImageReference) throws -> StoredImage {
        if pullPolicy != .always, let descriptor = try store.resolve(reference) {
            let image = try store.image(descriptor, platform: platform)
            if platform.matches(image.config.platform) || puller == nil || pullPolicy == .never { return image }
        }
        guard let puller, pullPolicy != .never else {
            throw BuildError("base image \(reference) is not in the local store\(pullPolicy == .never ? " and --pull never forbids fetching it" : "")",
                             hint: "pull it (spark-image-tool pull \(reference.familiarDescription)), or pass --base oci-layout:DIR[:tag], oci-archive:FILE, docker-archive:FILE or rootfs:FILE.tar (scripts/make-base-image.sh builds a Java base)")
        }
        return try BuildEvent.task("base", "pulling \(reference.familiarDescription)", events: events) {
            try store.image(try puller.pull(reference, platform: platform), platform: platform)
        } finished: { image in
            ("pulled \(reference.familiarDescription)", image.manifest.layers.totalSize)
        }
    }
}
