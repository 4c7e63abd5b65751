import Archive
import DockerEngine
import ImageFormats
import Foundation
import OCI
import Store
import Support

public struct PreloadResult: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The daemon already had this image under this name.
        case skipped
        /// The daemon had the image under another name: only a tag was added.
        case tagged
        /// Loaded from an archive that left out the layers the daemon already had.
        case delta(layersSent: Int, layersTotal: Int)
        /// One layer on top of an earlier build the daemon holds (see PreloadPatch).
        case patched
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
    public let puller: (any ImageFetching)?
    public let log: (@Sendable (String) -> Void)?

    /// Docker daemon → whether it needs full archives (its image store refused a delta).
    static let fullArchivesOnly = CacheShelf<Bool>("preload-full-archives", lifetime: .kept)
    /// Image ID in a daemon → the manifest of the stored image whose file tree it holds.
    static let treesLoaded = CacheShelf<Descriptor>("preload-trees", lifetime: .kept)

    public init(store: Store, engine: EngineClient, puller: (any ImageFetching)?, log: (@Sendable (String) -> Void)? = nil) {
        self.store = store
        self.engine = engine
        self.puller = puller
        self.log = log
    }

    public func preload(_ references: [ImageReference], platform requested: Platform?) throws -> PreloadSummary {
        let platform = try requested ?? daemonPlatform()
        var results: [PreloadResult] = []
        var toLoad: [(ImageReference, StoredImage)] = []
        for reference in references {
            let image = try storedOrPulled(reference, platform: platform)
            let id = image.manifest.config.digest
            let current = try engine.inspectImage(reference.familiarDescription).flatMap { try? Digest(parsing: $0.Id) }
            if let current, current == id || treeLoaded(as: current)?.digest == image.manifestDescriptor.digest {
                try rememberTree(of: image, loadedAs: current)
                results.append(PreloadResult(reference: reference, imageID: current, outcome: .skipped))
            } else if try engine.inspectImage(id.description) != nil {
                try rememberTree(of: image, loadedAs: id)
                try engine.tag(id.description, repository: Self.repository(of: reference), tag: reference.tag ?? "latest")
                results.append(PreloadResult(reference: reference, imageID: id, outcome: .tagged))
            } else {
                toLoad.append((reference, image))
            }
        }
        var bytesSent: Int64 = 0
        var unpatched: [(ImageReference, StoredImage)] = []
        let daemon = (try? engine.info().ID) ?? "unknown"
        let fullOnly = store.cached(Self.fullArchivesOnly, key: Self.key(daemon)) == true
        let daemonImages = toLoad.isEmpty || fullOnly ? [] : try imagesInDaemon()
        let daemonChains = Self.chains(of: daemonImages)
        for (reference, image) in toLoad {
            if let (result, bytes) = try loadPatch(reference, image, daemonImages: daemonImages, daemonChains: daemonChains) {
                results.append(result)
                bytesSent += bytes
            } else {
                unpatched.append((reference, image))
            }
        }
        if !unpatched.isEmpty {
            let (outcomes, bytes) = try load(unpatched, daemon: daemon, daemonChains: daemonChains, fullOnly: fullOnly)
            bytesSent += bytes
            for (_, image) in unpatched { try rememberTree(of: image, loadedAs: image.manifest.config.digest) }
            results += zip(unpatched, outcomes).map { PreloadResult(reference: $0.0, imageID: $0.1.manifest.config.digest, outcome: $1) }
        }
        try verify(results)
        return PreloadSummary(results: results.sorted { $0.reference.description < $1.reference.description }, bytesSent: bytesSent)
    }

    private func daemonPlatform() throws -> Platform {
        let version = try engine.version()
        return try Platform(parsing: "\(version.Os)/\(version.Arch)")
    }

    private func storedOrPulled(_ reference: ImageReference, platform: Platform) throws -> StoredImage {
        try StoredOrPulled(store: store, puller: puller, log: log).image(reference, platform: platform)
    }

    /// One docker-archive for every image; a delta first, and the full archive if the daemon
    /// refuses the delta (the containerd image store does), which is then remembered. Where the
    /// daemon takes deltas, a cold load goes in two stages (see `baseStage`).
    private func load(_ images: [(ImageReference, StoredImage)], daemon: String, daemonChains: Set<[Digest]>,
                      fullOnly: Bool) throws -> ([PreloadResult.Outcome], Int64) {
        let plan = DeltaPlan(images: images.map(\.1), daemonChains: daemonChains)
        let stage = fullOnly ? nil : try Self.baseStage(of: images.map(\.1), omitting: plan.omitted, store: store)
        if !plan.omitted.isEmpty || stage != nil {
            do {
                let bytes = try send(images, omitting: plan.omitted, stage: stage)
                let outcomes: [PreloadResult.Outcome] = plan.omitted.isEmpty
                    ? images.map { _ in .full } : plan.layersSent.map { .delta(layersSent: $0.sent, layersTotal: $0.total) }
                return (outcomes, bytes)
            } catch let error as DockerError where Self.refusesOmittedLayers(error) {
                log?("the daemon refused the delta archive (\(error.message)); sending the full archive, and always will to this daemon")
                try? store.remember(true, on: Self.fullArchivesOnly, key: Self.key(daemon))
            }
        }
        let bytes = try send(images, omitting: [], stage: nil)
        return (images.map { _ in .full }, bytes)
    }

    /// The first load of a staged preload: the first image's bottom layer under a config cut to
    /// it (`BottomLayerAhead`). `docker load` registers layers only once its whole archive has
    /// arrived, so one load cannot overlap the two; in two, the daemon registers the bottom layer
    /// while the rest streams in.
    static func baseStage(of images: [StoredImage], omitting: Set<Digest>, store: Store) throws -> TopLayerArchive? {
        guard let ahead = BottomLayerAhead(of: images, omitting: omitting) else { return nil }
        let config = try ahead.config()
        let path = store.blobPath(ahead.layer.digest)
        // Inflated here (ISA-L) while it streams, it spares the daemon's registering an unpigz.
        guard LayerCompression(mediaType: ahead.layer.mediaType) == .gzip,
              let size = try DaemonArchive.uncompressedSizes(of: [ahead.layer.digest], in: store)[ahead.layer.digest] else {
            return TopLayerArchive(config: config, daemonLayers: [], layerPath: path, layerSize: try store.blobSize(ahead.layer.digest))
        }
        return TopLayerArchive(config: config, daemonLayers: [], layerPath: path, layerSize: size, inflatedFrom: ahead.layer.digest)
    }

    private func send(_ images: [(ImageReference, StoredImage)], omitting: Set<Digest>, stage: TopLayerArchive?) throws -> Int64 {
        let archive = DaemonArchive(store: store, images: images.map { (reference: $0.0, image: $0.1) })
        guard let stage, let bottom = images.first?.1.manifest.layers.first?.digest else {
            return try stream { try archive.write(omitting: omitting, into: $0) }
        }
        // The first archive streams alone, then the rest streams while the daemon registers the
        // first; the rest's archive ends once the first load has answered, since its layers lean on
        // the first's. (Signalled twice when all goes well; the one wait takes either.)
        log?("loading the bottom layer \(bottom) ahead, then the rest while the daemon registers it")
        let firstSent = DispatchSemaphore(value: 0), firstLoaded = DispatchGroup()
        let first = Locked<Result<Int64, any Error>?>(nil)
        firstLoaded.enter()
        DispatchQueue.global().async {
            let result = Result { try self.stream { try stage.write(repoTags: [], into: $0); firstSent.signal() } }
            first.update { $0 = result }
            firstSent.signal()
            firstLoaded.leave()
        }
        let rest = Result {
            try stream { sink in
                firstSent.wait()
                try archive.write(omitting: omitting.union([bottom]), into: sink) {
                    firstLoaded.wait()
                    if case .failure(let error)? = first.value { throw error }
                }
            }
        }
        firstLoaded.wait()
        let firstBytes = try first.value!.get()
        do { try engine.removeImage(stage.imageID.description) } catch {
            log?("could not remove the staging image \(stage.imageID) (\(error)); it holds nothing but a layer of the image loaded")
        }
        return try firstBytes + rest.get()
    }

    /// Streams one archive into POST /images/load; the bytes sent.
    private func stream(_ write: @escaping @Sendable (any ByteSink) throws -> Void) throws -> Int64 {
        let counter = Locked<Int64>(0)
        _ = try engine.load { send in
            try withoutActuallyEscaping(send) { send in
                try write(ClosureSink { bytes in
                    try send(bytes)
                    counter.update { $0 += Int64(bytes.count) }
                })
            }
        }
        return counter.value
    }

    /// A daemon whose image store wants every layer file (the containerd store) says so this
    /// way; any other failure is the archive's or the daemon's and is reported.
    private static func refusesOmittedLayers(_ error: DockerError) -> Bool {
        error.message.contains("no such file or directory")
    }

    typealias DaemonImage = (id: Digest, layers: [Digest])

    /// Every chain of diff_ids (as prefixes) of the daemon's images.
    static func chains(of images: [DaemonImage]) -> Set<[Digest]> {
        var chains = Set<[Digest]>()
        for (_, diffIDs) in images {
            for length in 1...max(diffIDs.count, 1) where length <= diffIDs.count { chains.insert(Array(diffIDs.prefix(length))) }
        }
        return chains
    }

    private func imagesInDaemon() throws -> [DaemonImage] {
        try engine.listImages().compactMap { summary in
            guard let id = try? Digest(parsing: summary.Id), let layers = try engine.inspectImage(summary.Id)?.RootFS?.Layers else { return nil }
            return (id, layers.compactMap { try? Digest(parsing: $0) })
        }
    }

    // MARK: - Patches

    /// Loads `image` as a patch on a daemon image whose tree is known (loaded or patched from
    /// this store), trying those that share the most layers with it first; nil when none gives
    /// an exact patch, or when the normal delta sends less than twice the patch (it keeps the
    /// image's own ID and layers).
    private func loadPatch(_ reference: ImageReference, _ image: StoredImage, daemonImages: [DaemonImage],
                           daemonChains: Set<[Digest]>) throws -> (PreloadResult, Int64)? {
        let omitted = DeltaPlan(images: [image], daemonChains: daemonChains).omitted
        let deltaBytes = image.manifest.layers.filter { !omitted.contains($0.digest) }.totalSize
        let newLayers = Set(image.config.rootfs.diffIDs)
        let candidates = daemonImages.compactMap { daemonImage -> (earlier: StoredImage, config: ImageConfig, shared: Int)? in
            guard let manifest = treeLoaded(as: daemonImage.id), let earlier = try? store.image(manifest),
                  let config = try? store.readJSON(ImageConfig.self, daemonImage.id), config.rootfs.diffIDs == daemonImage.layers else { return nil }
            return (earlier, config, newLayers.intersection(earlier.config.rootfs.diffIDs).count)
        }
        var found: TopLayerArchive?
        for candidate in candidates.sorted(by: { $0.shared > $1.shared }) where candidate.shared > 0 {
            found = try PreloadPatch.make(from: candidate.earlier, daemonConfig: candidate.config, to: image, store: store)
            if found != nil { break }
        }
        guard let patch = found else { return nil }
        defer { unlink(patch.layerPath) }
        guard patch.layerSize * 2 < deltaBytes else { return nil }
        let bytes: Int64
        do { bytes = try stream { try patch.write(repoTags: [reference.familiarDescription], into: $0) } } catch let error as DockerError where Self.refusesOmittedLayers(error) {
            // load() finds that out again and remembers it.
            log?("the daemon refused the patch archive (\(error.message))")
            return nil
        }
        // The next patch on this one reads its config (history, layers) from here.
        _ = try store.putBlob(patch.config)
        try rememberTree(of: image, loadedAs: patch.imageID)
        log?("\(reference.familiarDescription): loaded as one layer of \(patch.layerSize) bytes on an earlier build the daemon holds")
        return (PreloadResult(reference: reference, imageID: patch.imageID, outcome: .patched), bytes)
    }

    /// The stored manifest whose file tree the daemon's image `id` holds (loaded or patched by us).
    private func treeLoaded(as id: Digest) -> Descriptor? {
        guard let manifest = store.cached(Self.treesLoaded, key: id.encoded), store.hasBlob(manifest.digest) else { return nil }
        return manifest
    }

    private func rememberTree(of image: StoredImage, loadedAs id: Digest) throws {
        try store.remember(image.manifestDescriptor, on: Self.treesLoaded, key: id.encoded)
    }

    private func verify(_ results: [PreloadResult]) throws {
        for result in results {
            let found = try engine.inspectImage(result.reference.familiarDescription)?.Id
            guard found == result.imageID.description else {
                throw PreloadError("after loading, the daemon reports \(found ?? "no image") for \(result.reference.familiarDescription), not \(result.imageID)",
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
        SHA256Hex.of("daemon-\(daemonID)")
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
