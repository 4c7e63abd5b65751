import DockerEngine
import Foundation
import Support

/// A local cluster whose nodes are containers on a Docker daemon, each running containerd.
public enum ContainerdCluster: Sendable, Equatable, CustomStringConvertible {
    /// kind: node containers labelled `io.x-k8s.kind.cluster=NAME`, containerd at its default socket.
    case kind(name: String)
    /// k3d: `k3d-NAME-server-N` and `k3d-NAME-agent-N` (labelled `k3d.cluster=NAME`), k3s's containerd.
    case k3d(name: String)
    /// minikube's containerd or cri-o runtime on the docker or podman driver: the profile's node containers.
    case minikube(profile: String, containers: [String])

    static let kindLabel = "io.x-k8s.kind.cluster"
    static let k3dLabel = "k3d.cluster"
    static let k3sSocket = "/run/k3s/containerd/containerd.sock"

    public var description: String {
        switch self {
        case .kind(let name): "kind cluster '\(name)'"
        case .k3d(let name): "k3d cluster '\(name)'"
        case .minikube(let profile, _): "minikube profile '\(profile)'"
        }
    }

    /// The container filter that finds candidate nodes (Engine API `filters`).
    public var filter: (key: String, value: String) {
        switch self {
        case .kind(let name): ("label", "\(Self.kindLabel)=\(name)")
        case .k3d(let name): ("label", "\(Self.k3dLabel)=\(name)")
        case .minikube(let profile, _): ("name", profile)
        }
    }

    /// How the node's ctr reaches its containerd.
    public var ctrCommand: [String] {
        switch self {
        case .kind, .minikube: ["ctr"]
        case .k3d: ["ctr", "--address", Self.k3sSocket]
        }
    }

    /// Whether a container found by `label` is one of the cluster's nodes (k3d also labels its
    /// load balancer and tools containers; minikube's label names the profile).
    func isNode(_ name: String) -> Bool {
        switch self {
        case .kind: true
        case .k3d(let cluster): name.hasPrefix("k3d-\(cluster)-server-") || name.hasPrefix("k3d-\(cluster)-agent-")
        case .minikube(_, let containers): containers.contains(name)
        }
    }

    /// The node containers to preload into: all of the cluster's, or those `picked`; each running.
    public func nodes(among containers: [EngineClient.ContainerSummary], picked: [String]?) throws -> [String] {
        let nodes = containers.filter { isNode($0.name) }
        guard !nodes.isEmpty else {
            throw PreloadError("no node containers of the \(description) on this Docker daemon",
                               hint: "is the cluster running? (`docker ps` lists its nodes); pick the daemon with --host or --context")
        }
        let names = nodes.map(\.name).sorted()
        let chosen = picked ?? names
        if let unknown = chosen.first(where: { !names.contains($0) }) {
            throw PreloadError("--nodes names \(unknown), which is not a node of the \(description) (its nodes: \(names.joined(separator: ", ")))")
        }
        for node in nodes where chosen.contains(node.name) && node.State != nil && node.State != "running" {
            throw PreloadError("node \(node.name) of the \(description) is \(node.State!), not running",
                               hint: "start the cluster, or leave the node out with --nodes")
        }
        return chosen
    }
}

/// What `minikube profile list -o json` says of one profile.
public struct MinikubeProfile: Sendable, Equatable {
    public var name: String
    public var driver: String
    public var runtime: String
    /// The nodes' names in the profile: empty for the primary control plane, then `m02`, ….
    public var nodeNames: [String]

    /// Drivers whose nodes are containers on the local container engine; every other driver
    /// (kvm2, qemu2, hyperkit, virtualbox, vfkit, hyperv, ssh, …) is reached with `minikube ssh`.
    static let containerDrivers: Set<String> = ["docker", "podman"]

    /// The node containers of a container driver: named after the profile, then `PROFILE-m02`, ….
    public var nodeContainers: [String] { nodeNames.map { $0.isEmpty ? name : "\(name)-\($0)" } }

    /// Reads the JSON; refuses a profile it does not list, naming those it does.
    static func parse(_ data: Data, profile: String) throws -> MinikubeProfile {
        struct List: Decodable { var valid: [Entry]? }
        struct Entry: Decodable {
            var Name: String
            var Config: Config?
        }
        struct Config: Decodable {
            var Driver: String?
            var KubernetesConfig: Kubernetes?
            var Nodes: [Node]?
        }
        struct Kubernetes: Decodable { var ContainerRuntime: String? }
        struct Node: Decodable { var Name: String? }
        let list: List
        do { list = try JSONDecoder().decode(List.self, from: data) } catch {
            throw PreloadError("`minikube profile list -o json` printed something that is not its JSON: \(error)",
                               hint: "update minikube, or use its Docker daemon with --host")
        }
        guard let entry = list.valid?.first(where: { $0.Name == profile }) else {
            let names = (list.valid ?? []).map(\.Name).sorted()
            throw PreloadError("minikube has no valid profile '\(profile)' (it lists: \(names.isEmpty ? "none" : names.joined(separator: ", ")))",
                               hint: "pick one with --profile (`minikube profile list`), or start it with `minikube start -p \(profile)`")
        }
        let runtime = entry.Config?.KubernetesConfig?.ContainerRuntime ?? ""
        let nodes = (entry.Config?.Nodes ?? []).map { $0.Name ?? "" }
        return MinikubeProfile(name: profile, driver: entry.Config?.Driver ?? "", runtime: runtime.isEmpty ? "docker" : runtime,
                               nodeNames: nodes.isEmpty ? [""] : nodes)
    }

    /// How preload reaches this profile: its Docker daemon, its node containers, or `minikube ssh`;
    /// and which runtime's loader runs there.
    public func route() throws -> MinikubeRoute {
        let runtime: NodeRuntime
        switch self.runtime {
        case "docker": return .dockerDaemon
        case "containerd": runtime = .containerd
        case "cri-o", "crio": runtime = .crio
        default:
            throw PreloadError("minikube profile '\(name)' runs the container runtime '\(self.runtime)', which preload does not know",
                               hint: "preload loads into docker, containerd and cri-o; use `minikube image load` for this one")
        }
        if Self.containerDrivers.contains(driver) {
            return .nodeContainers(.minikube(profile: name, containers: nodeContainers), runtime)
        }
        guard driver != "none" else {
            throw PreloadError("minikube profile '\(name)' runs \(self.runtime) on this machine (the none driver), which `minikube ssh` does not reach",
                               hint: runtime == .containerd ? "preload into its socket with --containerd /run/containerd/containerd.sock"
                                   : "load with `sudo podman load` on this machine")
        }
        return .ssh(nodeNames.map { MinikubeSSHTransport(profile: name, nodeName: $0) }, runtime)
    }

    /// The nodes of a VM profile to preload into: all, or those `picked` by machine name (`P-m02`).
    public static func pick(_ nodes: [MinikubeSSHTransport], _ picked: [String]?) throws -> [MinikubeSSHTransport] {
        guard let picked else { return nodes }
        if let unknown = picked.first(where: { name in !nodes.contains { $0.node == name } }) {
            throw PreloadError("--nodes names \(unknown), which is not a node of minikube profile '\(nodes.first?.profile ?? "")' (its nodes: \(nodes.map(\.node).joined(separator: ", ")))")
        }
        return nodes.filter { picked.contains($0.node) }
    }

    /// `env` exits 127 when minikube is not on PATH.
    static let missing = PreloadError("minikube is not on PATH", hint: "install minikube, or name the Docker daemon with --host")

    /// Runs `minikube profile list -o json`; nil when it does not answer with its JSON (an old
    /// minikube), so the caller keeps to the Docker daemon path, which explains itself.
    public static func read(profile: String, environment: [String: String]? = nil) throws -> MinikubeProfile? {
        let output: ProcessOutput
        do { output = try Subprocess.run(["minikube", "profile", "list", "-o", "json"], environment: environment) } catch {
            throw PreloadError("cannot run minikube: \(error)", hint: missing.hint)
        }
        guard output.status != 127 else { throw missing }
        guard output.status == 0, output.stdout.first == UInt8(ascii: "{") else { return nil }
        return try parse(output.stdout, profile: profile)
    }
}

/// The container runtime of a cluster's nodes, which decides how an image is loaded there.
public enum NodeRuntime: String, Sendable, Equatable {
    /// `ctr images import`, sending only the blobs the node lacks.
    case containerd
    /// `podman load` into the containers/storage that CRI-O shares, as `minikube image load` does.
    case crio = "cri-o"
}

/// How preload reaches a minikube profile.
public enum MinikubeRoute: Sendable, Equatable {
    /// The docker runtime: the profile's Docker daemon (`minikube docker-env`).
    case dockerDaemon
    /// The docker or podman driver: node containers on the local Docker daemon, by exec.
    case nodeContainers(ContainerdCluster, NodeRuntime)
    /// A VM driver: each node through `minikube ssh`.
    case ssh([MinikubeSSHTransport], NodeRuntime)
}
