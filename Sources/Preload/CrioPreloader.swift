import DockerEngine
import Foundation
import ImageFormats
import OCI
import Store
import Support

/// Loads images from the store into cri-o nodes (minikube's cri-o runtime), each through its
/// `NodeCommandRunner`. CRI-O reads the containers/storage that the node's podman writes, and
/// `minikube image load` runs `sudo podman load` there too. Per node: nothing when podman has the
/// image (its ID, the config digest) under the name, a tag when it has it under another name,
/// else one OCI archive of the node's platform streamed into `podman load`, then checked. An OCI
/// archive, not a docker-archive: podman then records our manifest digest (`podman images
/// --digests`); from a docker-archive it makes a manifest of its own. The archive leaves out the
/// layers whose diff IDs the node's images list: podman reuses a stored layer before it reads
/// the archive's blob. Where it cannot (the layer came with other compression), the load fails
/// on the missing blob and the full archive goes.
public struct CrioPreloader: Sendable {
    public let store: Store
    public let puller: (any ImageFetching)?
    public let log: (@Sendable (String) -> Void)?

    public init(store: Store, puller: (any ImageFetching)?, log: (@Sendable (String) -> Void)? = nil) {
        self.store = store
        self.puller = puller
        self.log = log
    }

    /// Preloads `references` into every node, `jobs` nodes at a time; a node that fails does not
    /// stop the others.
    public func preload(_ references: [ImageReference], into nodes: [any NodeCommandRunner], platform requested: Platform?,
                        jobs: Int) -> [ContainerdNodeResult] {
        let supply = Locked<Void>(())
        return eachNode(nodes.map(\.node), jobs: jobs) { index, result in
            try self.preload(references, into: nodes[index], requested: requested, supply: supply, result: &result)
        }
    }

    private func preload(_ references: [ImageReference], into node: any NodeCommandRunner, requested: Platform?,
                         supply: Locked<Void>, result: inout ContainerdNodeResult) throws {
        let podman = PodmanSession(node: node)
        // Each podman run costs an ssh or exec round trip: the independent questions go at once.
        let (platform, listed) = try inParallel({ try podman.platform(requested: requested) }, { try podman.images() })
        result.platform = platform
        let source = ContainerdPreloader(store: store, puller: puller, log: log)
        let images = try supply.update { _ in try references.map { try source.image($0, for: platform, node: node.node) } }
        var toLoad: [(ImageReference, StoredImage)] = []
        for (reference, image) in zip(references, images) {
            let id = image.manifest.config.digest.encoded, name = reference.description
            let outcome: ContainerdNodeResult.Outcome
            if listed.contains(where: { $0.id == id && $0.names.contains(name) }) {
                outcome = .skipped
            } else if listed.contains(where: { $0.id == id }) {
                try podman.tag(id, as: name)
                outcome = .tagged
            } else {
                toLoad.append((reference, image))
                continue
            }
            result.images.append(.init(reference: reference, manifest: image.manifestDescriptor.digest, outcome: outcome))
        }
        let present = toLoad.isEmpty ? [] : try podman.layerDiffIDs(of: listed.map(\.id))
        // One archive an image: podman 4.3 loads an OCI archive of one image only.
        for (reference, image) in toLoad {
            let (sent, bytes) = try load(reference, image, present: present, into: podman, platform: platform)
            result.bytesSent += bytes
            result.images.append(.init(reference: reference, manifest: image.manifestDescriptor.digest,
                                       outcome: .imported(blobsSent: sent, blobsTotal: Self.blobCount(image))))
        }
        if result.images.contains(where: { $0.outcome != .skipped }) {
            try podman.verify(zip(references, images).map { ($0.description, $1.manifest.config.digest.encoded) })
        }
    }

    /// Loads one image without the layers the node has, or whole when podman could not reuse one
    /// of them; the blobs and bytes sent.
    private func load(_ reference: ImageReference, _ image: StoredImage, present: Set<Digest>, into podman: PodmanSession,
                      platform: Platform) throws -> (blobs: Int, bytes: Int64) {
        let omitted = Set(zip(image.manifest.layers, image.config.rootfs.diffIDs).filter { present.contains($1) }.map(\.0.digest))
        let blobs = Self.blobCount(image)
        do {
            return (blobs - omitted.count, try podman.load(archive(reference, platform: platform, omitting: omitted)))
        } catch let failure as PodmanLoadFailure where !omitted.isEmpty && failure.lacksBlob {
            log?("\(podman.node.node): podman did not reuse a layer it has (\(failure.stderr)); sending the whole image")
            return (blobs, try podman.load(archive(reference, platform: platform, omitting: [])))
        }
    }

    /// An image's archive holds its manifest, config and layers.
    private static func blobCount(_ image: StoredImage) -> Int { image.manifest.layers.count + 2 }

    /// The OCI archive of one image for one platform, written as the node reads it.
    private func archive(_ reference: ImageReference, platform: Platform, omitting: Set<Digest>) -> EngineClient.InputProducer {
        let store = self.store
        return { write in
            try withoutActuallyEscaping(write) { write in
                try ArchiveDestination(store: store, format: .ociArchive).write(
                    [reference], into: ClosureSink(write), platform: platform, omitting: omitting, onePlatform: true)
            }
        }
    }
}

/// The `podman` commands a cri-o preload runs on one node, each failure naming the node and
/// carrying podman's own message.
struct PodmanSession: Sendable {
    let node: any NodeCommandRunner

    /// The node's platform, refusing another one asked for.
    func platform(requested: Platform?) throws -> Platform {
        let text = try run(["info", "--format", "{{.Host.OS}}/{{.Host.Arch}}"], doing: "read its platform")
        guard let platform = try? Platform(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw PreloadError("node \(node.node): `podman info` says its platform is '\(text)'", hint: "is podman 4 installed in the node?")
        }
        if let requested, !requested.matches(platform) {
            throw PreloadError("node \(node.node) runs \(platform), not the requested \(requested)",
                               hint: "leave out --platform: each node gets its own platform's image")
        }
        return platform
    }

    func images() throws -> [PodmanOutput.Image] {
        let text = try run(["images", "--format", "json"], doing: "list its images")
        guard let images = PodmanOutput.images(text) else {
            throw PreloadError("node \(node.node): `podman images --format json` printed something that is not its JSON",
                               hint: "preload needs podman 4 or later in the node")
        }
        return images
    }

    func tag(_ id: String, as name: String) throws {
        _ = try run(["tag", id, name], doing: "tag \(id.prefix(12)) as \(name)")
    }

    /// The diff IDs of the layers under the images `ids`.
    func layerDiffIDs(of ids: [String]) throws -> Set<Digest> {
        guard !ids.isEmpty else { return [] }
        return PodmanOutput.layerDiffIDs(try run(["image", "inspect", "--format", "json"] + ids, doing: "inspect its images"))
    }

    /// Streams the archive into `podman load`; the bytes sent.
    func load(_ archive: @escaping EngineClient.InputProducer) throws -> Int64 {
        let result = try node.run(["podman", "load"], stdin: archive)
        guard result.exitCode == 0 else {
            throw PodmanLoadFailure(node: node.node, exitCode: result.exitCode,
                                    stderr: result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result.bytesSent
    }

    /// Every name is on the image whose ID is the config digest we sent.
    func verify(_ expected: [(name: String, id: String)]) throws {
        let listed = try images()
        for (name, id) in expected {
            guard let image = listed.first(where: { $0.names.contains(name) }) else {
                throw PreloadError("node \(node.node): after the load, podman does not list \(name)",
                                   hint: "preload again with --verbose; `sudo podman images` on the node shows what it has")
            }
            guard image.id == id else {
                throw PreloadError("node \(node.node): podman lists \(name) as image \(image.id.prefix(12)), expected \(id.prefix(12))",
                                   hint: "remove it on the node (`sudo podman rmi \(name)`) and preload again")
            }
        }
    }

    /// Runs a `podman` command that must succeed; its stdout.
    private func run(_ arguments: [String], doing what: String) throws -> String {
        let result: CtrResult
        do { result = try node.run(["podman"] + arguments, stdin: nil) } catch {
            throw PreloadError("node \(node.node): cannot \(what): \(error)", kind: .unreachable)
        }
        guard result.exitCode == 0 else {
            throw PreloadError("node \(node.node): cannot \(what): podman \(arguments.joined(separator: " ")) exited \(result.exitCode): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))",
                               hint: "is the node's podman working? (`sudo podman info` in the node)", kind: .unreachable)
        }
        return result.stdout
    }
}

/// `podman load` said no.
struct PodmanLoadFailure: Error, CustomStringConvertible {
    var node: String
    var exitCode: Int
    var stderr: String

    /// podman 4.3: `reading blob sha256:…: open …: no such file or directory` for a layer that is
    /// neither in the archive nor reused from the node's storage.
    var lacksBlob: Bool { stderr.contains("reading blob sha256:") && stderr.contains("no such file or directory") }

    var description: String {
        "node \(node): podman load failed (exit \(exitCode)): \(stderr)\n  hint: podman's message above says why"
    }
}

/// Reads what `podman` prints. Pure, so each answer is tested as text.
enum PodmanOutput {
    /// One image of `podman images --format json` (podman 4): its ID (the config digest's hex),
    /// names (`docker.io/library/spark:4.0.1`) and manifest digest.
    struct Image: Equatable, Sendable {
        var id: String
        var names: [String]
        var digest: String?
    }

    /// nil when the text is not that JSON.
    static func images(_ text: String) -> [Image]? {
        struct Row: Decodable {
            var Id: String
            var Names: [String]?
            var Digest: String?
        }
        guard let rows = try? JSONDecoder().decode([Row].self, from: Data(text.utf8)) else { return nil }
        return rows.map { Image(id: $0.Id, names: $0.Names ?? [], digest: $0.Digest) }
    }

    /// The layers' diff IDs in `podman image inspect --format json`; empty when it is not that JSON.
    static func layerDiffIDs(_ text: String) -> Set<Digest> {
        struct Image: Decodable {
            struct RootFS: Decodable { var Layers: [String]? }
            var RootFS: RootFS?
        }
        let images = (try? JSONDecoder().decode([Image].self, from: Data(text.utf8))) ?? []
        return Set(images.flatMap { $0.RootFS?.Layers ?? [] }.compactMap { try? Digest(parsing: $0) })
    }
}
