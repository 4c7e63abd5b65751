import DockerEngine
import Foundation
import Support

/// A local cluster whose nodes are containers on a Docker daemon, each running containerd.
public enum ContainerdCluster: Sendable, Equatable, CustomStringConvertible {
    /// kind: node containers labelled `io.x-k8s.kind.cluster=NAME`, containerd at its default socket.
    case kind(name: String)
    /// k3d: `k3d-NAME-server-N` and `k3d-NAME-agent-N` (labelled `k3d.cluster=NAME`), k3s's containerd.
    case k3d(name: String)
    /// minikube's containerd runtime on the docker driver: the profile's node containers.
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
    public var driver: String
    public var runtime: String
    /// The node containers of a container driver: the first node is named after the profile,
    /// the others `PROFILE-m02`, ….
    public var nodeContainers: [String]

    /// Reads the JSON; nil when the profile is not listed.
    static func parse(_ data: Data, profile: String) throws -> MinikubeProfile? {
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
        guard let entry = list.valid?.first(where: { $0.Name == profile }) else { return nil }
        let nodes = (entry.Config?.Nodes ?? [Node(Name: "")]).map { node in
            node.Name.map { $0.isEmpty ? profile : "\(profile)-\($0)" } ?? profile
        }
        return MinikubeProfile(driver: entry.Config?.Driver ?? "", runtime: entry.Config?.KubernetesConfig?.ContainerRuntime ?? "docker",
                               nodeContainers: nodes)
    }

    /// The containerd cluster this profile is, or nil when its runtime is Docker (the daemon path).
    public func cluster(profile: String) throws -> ContainerdCluster? {
        guard runtime != "docker" else { return nil }
        guard runtime == "containerd" else {
            throw PreloadError("minikube profile '\(profile)' runs the \(runtime) runtime, which preload does not load into yet",
                               hint: "use `minikube image load`, or a profile with --container-runtime=containerd or docker")
        }
        guard ["docker", "podman"].contains(driver) else {
            throw PreloadError("minikube profile '\(profile)' runs containerd on the \(driver) driver, whose nodes are not containers",
                               hint: "use `minikube image load`, or a profile on the docker driver")
        }
        return .minikube(profile: profile, containers: nodeContainers)
    }

    /// Runs `minikube profile list -o json`; nil when it does not answer with its JSON (an old
    /// minikube), so the caller keeps to the Docker daemon path, which explains itself.
    public static func read(profile: String, environment: [String: String]? = nil) throws -> MinikubeProfile? {
        guard let output = try? Subprocess.run(["minikube", "profile", "list", "-o", "json"], environment: environment),
              output.status == 0, output.stdout.first == UInt8(ascii: "{") else { return nil }
        return try parse(output.stdout, profile: profile)
    }
}
