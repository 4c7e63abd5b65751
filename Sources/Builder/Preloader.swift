import Archive
import DockerEngine
import Foundation
import OCI
import Store

public struct PreloadResult: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The daemon already had this image under this name.
        case skipped
        /// The daemon had the image under another name: only a tag was added.
        case tagged
        /// Loaded from an archive that left out the layers the daemon already had.
        case delta(layersSent: Int, layersTotal: Int)
        case full
    }

    public var reference: ImageReference
    public var imageID: Digest
    public var outcome: Outcome
}

public struct PreloadSummary: Sendable {
    public var results: [PreloadResult]
    /// Bytes of the archive sent to the daemon (0 when nothing was loaded).
    public var bytesSent: Int64
}

/// Loads images from the store into a Docker daemon, sending only what it lacks: nothing when it
/// has the image, a tag when it has the image under another name, and otherwise one archive for
/// all images that leaves out every layer whose chain the daemon already holds.
public struct Preloader: Sendable {
    public let store: Store
    public let engine: EngineClient
    /// Fetches images the store lacks; nil keeps preload to what is stored.
    public let puller: Puller?
    public let log: (@Sendable (String) -> Void)?

    public init(store: Store, engine: EngineClient, puller: Puller?, log: (@Sendable (String) -> Void)? = nil) {
        self.store = store
        self.engine = engine
        self.puller = puller
        self.log = log
    }

    public func preload(_ references: [ImageReference], platform requested: Platform?) throws -> PreloadSummary {
        try engine.connect()
        let platform = try requested ?? daemonPlatform()
        var results: [PreloadResult] = []
        var toLoad: [(ImageReference, StoredImage)] = []
        for reference in references {
            let image = try storedOrPulled(reference, platform: platform)
            let id = image.manifest.config.digest
            if try engine.inspectImage(reference.familiarDescription)?.Id == id.description {
                results.append(PreloadResult(reference: reference, imageID: id, outcome: .skipped))
            } else if try engine.inspectImage(id.description) != nil {
                try engine.tag(id.description, repository: Self.repository(of: reference), tag: reference.tag ?? "latest")
                results.append(PreloadResult(reference: reference, imageID: id, outcome: .tagged))
            } else {
                toLoad.append((reference, image))
            }
        }
        var bytesSent: Int64 = 0
        if !toLoad.isEmpty {
            let (outcomes, bytes) = try load(toLoad, platform: platform)
            bytesSent = bytes
            results += zip(toLoad, outcomes).map { PreloadResult(reference: $0.0, imageID: $0.1.manifest.config.digest, outcome: $1) }
        }
        try verify(results)
        return PreloadSummary(results: results.sorted { $0.reference.description < $1.reference.description }, bytesSent: bytesSent)
    }

    private func daemonPlatform() throws -> Platform {
        let version = try engine.version()
        return try Platform(parsing: "\(version.Os)/\(version.Arch)")
    }

    private func storedOrPulled(_ reference: ImageReference, platform: Platform) throws -> StoredImage {
        if let descriptor = try store.resolve(reference) {
            let image = try store.image(descriptor, platform: platform)
            if platform.matches(image.config.platform) { return image }
        }
        guard let puller else {
            throw BuildError("\(reference.familiarDescription) is not in the local store", hint: "build or pull it first")
        }
        log?("\(reference.familiarDescription) is not in the local store for \(platform): pulling it")
        return try store.image(try puller.pull(reference, platform: platform), platform: platform)
    }

    /// One docker-archive for every image; a delta first, and the full archive if the daemon
    /// refuses the delta (the containerd image store does), which is then remembered.
    private func load(_ images: [(ImageReference, StoredImage)], platform: Platform) throws -> ([PreloadResult.Outcome], Int64) {
        let daemon = (try? engine.info().ID) ?? "unknown"
        let fullOnly = store.cached(Bool.self, .daemons, key: Self.key(daemon)) == true
        let present = fullOnly ? [] : try layerChainsInDaemon()
        let plan = DeltaPlan(images: images.map(\.1), daemonChains: present)
        if !plan.omitted.isEmpty {
            do {
                let bytes = try send(images.map(\.0), platform: platform, omitting: plan.omitted)
                return (plan.layersSent.map { .delta(layersSent: $0.sent, layersTotal: $0.total) }, bytes)
            } catch let error as DockerError where error.message.contains("no such file or directory") {
                // A daemon whose image store wants every layer file (the containerd store) says so
                // this way; any other failure is the archive's or the daemon's and is reported.
                log?("the daemon refused the delta archive (\(error.message)); sending the full archive, and always will to this daemon")
                try? store.remember(true, .daemons, key: Self.key(daemon))
            }
        }
        let bytes = try send(images.map(\.0), platform: platform, omitting: [])
        return (images.map { _ in .full }, bytes)
    }

    private func send(_ references: [ImageReference], platform: Platform, omitting: Set<Digest>) throws -> Int64 {
        let counter = LockedValue<Int64>(0)
        let store = self.store
        _ = try engine.load { write in
            try withoutActuallyEscaping(write) { write in
                let sink = ClosureSink { bytes in
                    try write(bytes)
                    counter.update { $0 += Int64(bytes.count) }
                }
                try store.export(references, format: .dockerArchive, into: sink, platform: platform, omitting: omitting)
            }
        }
        return counter.value
    }

    /// Every chain of diff_ids (as prefixes) of every image the daemon holds.
    private func layerChainsInDaemon() throws -> Set<[Digest]> {
        var chains = Set<[Digest]>()
        for summary in try engine.listImages() {
            guard let layers = try engine.inspectImage(summary.Id)?.RootFS?.Layers else { continue }
            let diffIDs = layers.compactMap { try? Digest(parsing: $0) }
            for length in 1...max(diffIDs.count, 1) where length <= diffIDs.count { chains.insert(Array(diffIDs.prefix(length))) }
        }
        return chains
    }

    private func verify(_ results: [PreloadResult]) throws {
        for result in results {
            let found = try engine.inspectImage(result.reference.familiarDescription)?.Id
            guard found == result.imageID.description else {
                throw BuildError("after loading, the daemon reports \(found ?? "no image") for \(result.reference.familiarDescription), not \(result.imageID)",
                                 hint: "load it again; if this repeats, `docker rmi` the tag and retry")
            }
        }
    }

    static func repository(of reference: ImageReference) -> String {
        let familiar = reference.familiarDescription
        let withoutDigest = familiar.split(separator: "@")[0]
        guard let tag = reference.tag, withoutDigest.hasSuffix(":\(tag)") else { return String(withoutDigest) }
        return String(withoutDigest.dropLast(tag.count + 1))
    }

    static func key(_ daemonID: String) -> String {
        LayerBuilder.hash("daemon-\(daemonID)")
    }
}

/// Which layer blobs can stay out of the archive: the longest prefix of each image's layers
/// whose chain the daemon holds, unless another part of the archive needs the same blob.
struct DeltaPlan {
    let omitted: Set<Digest>
    let layersSent: [(sent: Int, total: Int)]

    init(images: [StoredImage], daemonChains: Set<[Digest]>) {
        var skippable = Set<Digest>()
        var needed = Set<Digest>()
        var sent: [(Int, Int)] = []
        for image in images {
            let diffIDs = image.config.rootfs.diffIDs
            var have = 0
            while have < diffIDs.count, daemonChains.contains(Array(diffIDs.prefix(have + 1))) { have += 1 }
            let layers = image.manifest.layers.map(\.digest)
            skippable.formUnion(layers.prefix(have))
            needed.formUnion(layers.dropFirst(have))
            sent.append((layers.count - have, layers.count))
        }
        omitted = skippable.subtracting(needed)
        layersSent = sent
    }
}

/// A sink that hands bytes to a closure: the HTTP request body of a load.
final class ClosureSink: ByteSink {
    private let body: (UnsafeRawBufferPointer) throws -> Void
    init(_ body: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.body = body }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try body(bytes) }
    func finish() throws {}
}
