import Archive
import DockerEngine
import Foundation
import ImageFormats
import OCI
import Store
import Support

/// What happened on one containerd node.
public struct ContainerdNodeResult: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The node had this manifest under this name.
        case skipped
        /// The node had the manifest under another name: only a tag was added.
        case tagged
        /// Imported from an archive that left out the blobs the node's content store had.
        case imported(blobsSent: Int, blobsTotal: Int)
    }

    public struct Image: Sendable {
        public var reference: ImageReference
        public var manifest: Digest
        public var outcome: Outcome
    }

    public var node: String
    public var platform: Platform?
    public var images: [Image]
    /// Bytes of archive sent to this node.
    public var bytesSent: Int64
    /// Why this node failed (the others go on); nil when it has every image.
    public var failure: String?
}

/// Loads images from the store into containerd nodes (kind, k3d, minikube's containerd
/// runtime, a containerd socket), each through its `ContainerdTransport`, all nodes at once.
/// Per node: nothing when it has the manifest under the name, a tag when it has the manifest
/// under another name, else the node's platform's image, leaving out every blob its content store
/// lists, imported and unpacked by the node's own `ctr` (in three imports when the base goes too:
/// `ContainerdStages`), then checked.
public struct ContainerdPreloader: Sendable {
    public let store: Store
    public let puller: (any ImageFetching)?
    /// Kubernetes (the CRI plugin) sees only `k8s.io`.
    public let namespace: String
    public let snapshotter: String
    public let log: (@Sendable (String) -> Void)?

    public static let kubernetesNamespace = "k8s.io"

    /// A containerd (by UUID and namespace) → it needs full archives: an import without the
    /// blobs it had listed failed because one of them vanished (its garbage collector, say).
    static let fullArchivesOnly = CacheShelf<Bool>("preload-containerd-full-archives", lifetime: .kept)

    public init(store: Store, puller: (any ImageFetching)?, namespace: String = kubernetesNamespace,
                snapshotter: String = "overlayfs", log: (@Sendable (String) -> Void)? = nil) {
        self.store = store
        self.puller = puller
        self.namespace = namespace
        self.snapshotter = snapshotter
        self.log = log
    }

    /// Preloads `references` into every node, `jobs` nodes at a time. A node that fails does not
    /// stop the others: its result carries the failure.
    public func preload(_ references: [ImageReference], into nodes: [any ContainerdTransport], platform requested: Platform?,
                        jobs: Int) -> [ContainerdNodeResult] {
        // Each node's images come from the store; a pull into it must not race another node's.
        let supply = Locked<Void>(())
        return eachNode(nodes.map(\.node), jobs: jobs) { index, result in
            try self.preload(references, into: nodes[index], requested: requested, supply: supply, result: &result)
        }
    }

    private func preload(_ references: [ImageReference], into node: any ContainerdTransport, requested: Platform?,
                         supply: Locked<Void>, result: inout ContainerdNodeResult) throws {
        let session = NodeSession(node: node, namespace: namespace, snapshotter: snapshotter)
        // Each ctr run costs an exec round trip: the questions that do not depend on each other go at once.
        let (platform, rows) = try inParallel({ try session.platform(requested: requested) }, { try session.images() })
        result.platform = platform
        removeStaleStaging(rows, from: session)
        // A staging name goes away at the end of the preload that made it: never a tag's source.
        let listed = rows.filter { !ContainerdStages.isStaging($0.name) }
        let images = try supply.update { _ in try references.map { try image($0, for: platform, node: node.node) } }
        var toImport: [(ImageReference, StoredImage)] = []
        for (reference, image) in zip(references, images) {
            let digest = image.manifestDescriptor.digest
            if listed.contains(where: { $0.name == reference.description && $0.digest == digest && $0.isReady }) {
                result.images.append(.init(reference: reference, manifest: digest, outcome: .skipped))
            } else if let source = listed.first(where: { $0.digest == digest && $0.isReady }) {
                try session.tag(source.name, as: reference.description)
                result.images.append(.init(reference: reference, manifest: digest, outcome: .tagged))
            } else {
                toImport.append((reference, image))
            }
        }
        if !toImport.isEmpty {
            let (outcomes, bytes) = try importImages(toImport, session: session, platform: platform)
            result.bytesSent = bytes
            result.images += zip(toImport, outcomes).map { .init(reference: $0.0, manifest: $0.1.manifestDescriptor.digest, outcome: $1) }
        }
        // Skipped images were read from `images check` just now; what changed is read back.
        if result.images.contains(where: { $0.outcome != .skipped }) {
            try session.verify(result.images.map { ($0.reference.description, $0.manifest) })
        }
    }

    /// The image for the node's platform: a stored image of another platform is refused by name
    /// rather than pulled over it. (Also what the cri-o loader sends.)
    func image(_ reference: ImageReference, for platform: Platform, node: String) throws -> StoredImage {
        if let descriptor = try store.resolve(reference) {
            let image: StoredImage
            do { image = try store.image(descriptor, platform: platform) } catch {
                throw Self.wrongPlatform(reference, platform: platform, node: node, detail: "\(error)")
            }
            guard platform.matches(image.config.platform) else {
                throw Self.wrongPlatform(reference, platform: platform, node: node, detail: "it is \(image.config.platform)")
            }
            return image
        }
        return try StoredOrPulled(store: store, puller: puller, log: log).image(reference, platform: platform)
    }

    private static func wrongPlatform(_ reference: ImageReference, platform: Platform, node: String, detail: String) -> PreloadError {
        PreloadError("node \(node) runs \(platform), and the stored \(reference.familiarDescription) has no \(platform) image (\(detail))",
                     hint: "build it for \(platform) (build --platform \(platform)), or preload into nodes of its platform")
    }

    /// One archive for the images; a delta first unless this containerd is known to need the full
    /// archive, and the full archive when the delta failed on a blob the node had listed. A failed
    /// import leaves no incomplete image behind.
    private func importImages(_ images: [(ImageReference, StoredImage)], session: NodeSession,
                              platform: Platform) throws -> ([ContainerdNodeResult.Outcome], Int64) {
        do {
            return try importDeltaOrFull(images, session: session, platform: platform)
        } catch let failure as ImportFailure {
            try? session.removeIncomplete(Self.names(of: images))
            throw PreloadError("node \(session.node.node): ctr images import failed (exit \(failure.exitCode)): \(failure.stderr)",
                               hint: "containerd's message above says why; the node keeps no half-imported image")
        }
    }

    private func importDeltaOrFull(_ images: [(ImageReference, StoredImage)], session: NodeSession,
                                   platform: Platform) throws -> ([ContainerdNodeResult.Outcome], Int64) {
        let (identity, listed) = try inParallel({ try session.identity() }, { try session.contentDigests() })
        let key = SHA256Hex.of("containerd-\(identity)-\(namespace)")
        let present = store.cached(Self.fullArchivesOnly, key: key) == true ? [] : listed
        let omitted = Set(images.flatMap { Self.blobs(of: $0.1) }.map(\.digest)).intersection(present)
        do {
            let bytes = try send(images, to: session, platform: platform, omitting: omitted)
            return (Self.outcomes(images, omitted: omitted), bytes)
        } catch let failure as ImportFailure where !omitted.isEmpty && failure.lacksContent {
            try session.removeIncomplete(Self.names(of: images))
            log?("\(session.node.node): a blob it listed is gone (\(failure.stderr)); sending the full archive, and always will to this containerd")
            try? store.remember(true, on: Self.fullArchivesOnly, key: key)
            let bytes = try send(images, to: session, platform: platform, omitting: [])
            return (Self.outcomes(images, omitted: []), bytes)
        }
    }

    /// The names an import gives the images on a node: theirs, and the `sha256:<config>` that
    /// Kubernetes' CRI plugin adds for each image created in `k8s.io`.
    private static func names(of images: [(ImageReference, StoredImage)]) -> [String] {
        images.map(\.0.description) + images.map(\.1.manifest.config.digest.description)
    }

    /// What an archive of one image holds: its manifest, config and layers.
    private static func blobs(of image: StoredImage) -> [Descriptor] {
        [image.manifestDescriptor, image.manifest.config] + image.manifest.layers
    }

    private static func outcomes(_ images: [(ImageReference, StoredImage)], omitted: Set<Digest>) -> [ContainerdNodeResult.Outcome] {
        images.map { _, image in
            let blobs = Self.blobs(of: image)
            return .imported(blobsSent: blobs.count(where: { !omitted.contains($0.digest) }), blobsTotal: blobs.count)
        }
    }

    /// Sends the images in three imports when the bottom layer goes too (`ContainerdStages`), else
    /// in one; the bytes sent.
    private func send(_ images: [(ImageReference, StoredImage)], to session: NodeSession, platform: Platform,
                      omitting: Set<Digest>) throws -> Int64 {
        guard let stages = try ContainerdStages(images.map(\.1), omitting: omitting) else {
            return try sendNamed(images.map(\.0), to: session, platform: platform, omitting: omitting)
        }
        log?("\(session.node.node): unpacking the bottom layer \(stages.ahead.layer.digest) while the rest streams in")
        defer { removeStaging(stages, from: session) }
        let store = self.store
        let (bottom, rest) = try inParallel({
            try session.importArchive(Self.producer { try stages.writeBottom(from: store, into: $0) }, platform: platform, staging: true)
        }, {
            try session.importArchive(Self.producer { try stages.writeRest(from: store, into: $0) }, platform: platform,
                                      unpack: false, staging: true)
        })
        // Manifests and configs go again (a few KiB): the layers are all the node's now.
        let layers = Set(images.flatMap { $0.1.manifest.layers.map(\.digest) })
        return try bottom + rest + sendNamed(images.map(\.0), to: session, platform: platform, omitting: omitting.union(layers))
    }

    private func removeStaleStaging(_ listed: [CtrOutput.CheckRow], from session: NodeSession) {
        let stale = ContainerdStages.stale(listed.map { ($0.name, $0.digest) }, now: Date())
        guard !stale.isEmpty else { return }
        log?("\(session.node.node): removing \(stale.joined(separator: ", ")), left by a preload killed between its imports")
        do { try session.remove(stale) } catch {
            log?("\(session.node.node): could not remove \(stale.joined(separator: ", ")) (\(error)); they hold only an image's own content")
        }
    }

    private func removeStaging(_ stages: ContainerdStages, from session: NodeSession) {
        let names = stages.namesToRemove
        do { try session.remove(names) } catch {
            log?("\(session.node.node): could not remove the staging images \(names.joined(separator: ", ")) (\(error)); they hold only the image's own content")
        }
    }

    /// One import of the images under their names, unpacked.
    private func sendNamed(_ references: [ImageReference], to session: NodeSession, platform: Platform,
                           omitting: Set<Digest>) throws -> Int64 {
        let store = self.store
        return try session.importArchive(Self.producer { sink in
            try ArchiveDestination(store: store, format: .ociArchive).write(
                references, into: sink, platform: platform, omitting: omitting, onePlatform: true)
        }, platform: platform)
    }

    private static func producer(_ write: @escaping @Sendable (any ByteSink) throws -> Void) -> EngineClient.InputProducer {
        { send in try withoutActuallyEscaping(send) { send in try write(ClosureSink(send)) } }
    }
}

/// `ctr images import` said no.
struct ImportFailure: Error {
    var exitCode: Int
    var stderr: String

    /// containerd 1.6: `ctr: content digest sha256:…: not found` for a blob neither in the archive
    /// nor in the content store.
    var lacksContent: Bool { stderr.contains("content digest") && stderr.contains("not found") }
}
