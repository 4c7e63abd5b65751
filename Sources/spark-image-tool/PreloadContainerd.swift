import ArgumentParser
import DockerEngine
import Distribution
import Foundation
import OCI
import Preload
import Store

/// Where a preload goes when the cluster runs containerd rather than a Docker daemon.
struct ContainerdOptions: ParsableArguments {
    @Flag(name: .long, help: "Load into a kind cluster's nodes (containers labelled io.x-k8s.kind.cluster=NAME; NAME from --cluster or --kind=NAME, default kind).")
    var kind = false

    @Flag(name: .long, help: "Load into a k3d cluster's nodes (k3d-NAME-server-*/agent-*; NAME from --cluster or --k3d=NAME, default k3s-default).")
    var k3d = false

    @Option(name: .long, help: ArgumentHelp("The kind or k3d cluster's name.", valueName: "name"))
    var cluster: String?

    @Option(name: .long, help: ArgumentHelp("A containerd socket on this machine, reached with this machine's ctr.", valueName: "address"))
    var containerd: String?

    @Option(name: .long, help: ArgumentHelp("Only these nodes (container names, or minikube's machine names P-m02 on a VM driver; comma-separated).", valueName: "a,b"))
    var nodes: String?

    @Option(name: .long, help: ArgumentHelp("containerd namespace; Kubernetes sees only k8s.io.", valueName: "namespace"))
    var namespace: String = ContainerdPreloader.kubernetesNamespace

    @Option(name: .long, help: ArgumentHelp("The nodes' snapshotter, which unpacks the image.", valueName: "name"))
    var snapshotter: String = "overlayfs"

    func validate() throws {
        if [kind, k3d, containerd != nil].count(where: { $0 }) > 1 {
            throw ValidationError("--kind, --k3d and --containerd name different clusters; pick one")
        }
        if cluster != nil && !kind && !k3d { throw ValidationError("--cluster names a kind or k3d cluster: add --kind or --k3d") }
        if nodes != nil && containerd != nil { throw ValidationError("--nodes picks node containers; --containerd names one containerd") }
    }

    var pickedNodes: [String]? {
        nodes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    /// The cluster of node containers that the flags name, if any.
    var nodeCluster: ContainerdCluster? {
        if kind { return .kind(name: cluster ?? "kind") }
        if k3d { return .k3d(name: cluster ?? "k3s-default") }
        return nil
    }
}

extension Root.Preload {
    /// The nodes the options name, each with its transport and its runtime's loader; nil for a
    /// Docker daemon (including minikube's docker runtime).
    static func containerdNodes(_ options: ContainerdOptions, daemon: DaemonOptions,
                                log: (@Sendable (String) -> Void)?) throws -> (cluster: String, nodes: ClusterNodes)? {
        if let address = options.containerd { return (address, .containerd([LocalCtrTransport(address: address)])) }
        var cluster = options.nodeCluster
        var runtime = NodeRuntime.containerd
        if cluster == nil, daemon.minikube, let profile = try MinikubeProfile.read(profile: daemon.profile) {
            switch try profile.route() {
            case .dockerDaemon: return nil
            case .nodeContainers(let containers, let nodeRuntime): (cluster, runtime) = (containers, nodeRuntime)
            case .ssh(let nodes, let nodeRuntime):
                log?("minikube profile \(profile.name): \(profile.runtime) on the \(profile.driver) driver, reached with `minikube ssh`")
                let picked = try MinikubeProfile.pick(nodes, options.pickedNodes)
                return ("minikube profile '\(profile.name)'", nodeRuntime == .crio ? .crio(picked) : .containerd(picked))
            }
        }
        guard let cluster else { return nil }
        // The nodes are containers on the local Docker daemon (not minikube's own).
        let endpoint = try EndpointDiscovery().endpoint(for: .automatic(host: daemon.host, context: daemon.context))
        log?("Docker daemon of the node containers: \(endpoint.description)")
        let engine = try EngineClient(connectingTo: endpoint, log: log)
        let filter = cluster.filter
        let names = try cluster.nodes(among: try engine.listContainers(filter: filter.key, filter.value), picked: options.pickedNodes)
        let nodes = names.map { NodeExecTransport(engine: engine, container: $0, command: cluster.ctrCommand) }
        return (cluster.description, runtime == .crio ? .crio(nodes) : .containerd(nodes))
    }

    static func preloadContainerd(_ references: [ImageReference], cluster: String, nodes: ClusterNodes,
                                  options: ContainerdOptions, store: Store, registry: RegistryOptionGroup, renderer: ProgressRenderer,
                                  platform: Platform?) throws -> ContainerdPreloadReport {
        let log: (@Sendable (String) -> Void)? = registry.verbose ? RegistryOptionGroup.printToStandardError : nil
        let puller = Puller(session: registry.session(store: store, renderer: renderer))
        let results = switch nodes {
        case .containerd(let nodes):
            ContainerdPreloader(store: store, puller: puller, namespace: options.namespace, snapshotter: options.snapshotter, log: log)
                .preload(references, into: nodes, platform: platform, jobs: registry.jobs)
        case .crio(let nodes):
            CrioPreloader(store: store, puller: puller, log: log).preload(references, into: nodes, platform: platform, jobs: registry.jobs)
        }
        return ContainerdPreloadReport(cluster: cluster, namespace: options.namespace, results: results)
    }

    static func report(_ report: ContainerdPreloadReport) {
        for node in report.nodes {
            for image in node.images {
                let how = switch image.outcome {
                case "skipped": "already loaded"
                case "tagged": "tagged (the node had the image)"
                default: "imported: \(image.blobsSent ?? 0) of \(image.blobsTotal ?? 0) blobs sent"
                }
                print("\(node.node): \(image.reference) \(image.manifestDigest.dropFirst(7).prefix(12)): \(how)")
            }
            if node.error != nil { print("\(node.node): FAILED (below)") }
            print("sent \(formatBytes(node.bytesSent)) (\(node.bytesSent) bytes) to node \(node.node)")
        }
        for image in report.images { print(pullPolicyAdvice(image)) }
    }

    /// Kubernetes pulls an image whose policy is Always, which it is by default for `:latest`:
    /// the preloaded copy is then ignored.
    static func pullPolicyAdvice(_ reference: String) -> String {
        let policy = "imagePullPolicy: IfNotPresent"
        guard reference.hasSuffix(":latest") else { return "\(reference): pods use it with \(policy)" }
        return "warning: \(reference) is tagged latest, for which Kubernetes defaults to imagePullPolicy: Always and pulls it anyway; set \(policy) or use another tag"
    }
}

/// A cluster's nodes with the loader of their runtime.
enum ClusterNodes {
    /// `ctr images import` (kind, k3d, minikube's containerd runtime, a containerd socket).
    case containerd([any ContainerdTransport])
    /// `podman load` into the storage CRI-O reads (minikube's cri-o runtime).
    case crio([any NodeCommandRunner])
}

/// `preload --json` into containerd nodes.
struct ContainerdPreloadReport: Codable, Equatable {
    struct Node: Codable, Equatable {
        var node: String
        var platform: String?
        var bytesSent: Int64
        var images: [Image]
        /// References the node already had under that name (nothing sent).
        var skipped: [String]
        /// Not in the document: a failure prints none, and the error names the node.
        var error: String?

        enum CodingKeys: String, CodingKey { case node, platform, bytesSent, images, skipped }
    }

    struct Image: Codable, Equatable {
        var reference: String
        var manifestDigest: String
        /// `skipped`, `tagged` or `imported`.
        var outcome: String
        var blobsSent: Int?
        var blobsTotal: Int?
    }

    var cluster: String
    var namespace: String
    var bytesSent: Int64
    var nodes: [Node]
    /// The pull policy a pod needs so as not to pull what was loaded.
    var imagePullPolicy: String
    var images: [String]

    init(cluster: String, namespace: String, results: [ContainerdNodeResult]) {
        self.cluster = cluster
        self.namespace = namespace
        nodes = results.map { result in
            Node(node: result.node, platform: result.platform?.description, bytesSent: result.bytesSent,
                 images: result.images.map(Self.image), skipped: result.images.filter { $0.outcome == .skipped }.map(\.reference.description),
                 error: result.failure)
        }
        bytesSent = nodes.reduce(0) { $0 + $1.bytesSent }
        imagePullPolicy = "IfNotPresent"
        images = Array(Set(results.flatMap { $0.images.map(\.reference.description) })).sorted()
    }

    private static func image(_ image: ContainerdNodeResult.Image) -> Image {
        switch image.outcome {
        case .skipped: Image(reference: image.reference.description, manifestDigest: image.manifest.description, outcome: "skipped")
        case .tagged: Image(reference: image.reference.description, manifestDigest: image.manifest.description, outcome: "tagged")
        case .imported(let sent, let total):
            Image(reference: image.reference.description, manifestDigest: image.manifest.description, outcome: "imported",
                  blobsSent: sent, blobsTotal: total)
        }
    }

    /// The failed nodes as one error, or nil.
    var failure: PreloadError? {
        let failed = nodes.filter { $0.error != nil }
        guard !failed.isEmpty else { return nil }
        let others = nodes.count - failed.count
        // Each node's error (message and hint) on lines of its own.
        return PreloadError("preload failed on \(failed.map(\.node).joined(separator: ", ")) (\(others) other node\(others == 1 ? "" : "s") loaded)\n"
                            + failed.map { "- " + $0.error!.replacingOccurrences(of: "\n", with: "\n  ") }.joined(separator: "\n"))
    }
}
