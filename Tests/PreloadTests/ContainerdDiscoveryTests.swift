import DockerEngine
import Foundation
import OCI
@testable import Preload
import Testing

/// What preload reads from `ctr` (containerd 1.6's tables, as printed here) and how it finds a
/// cluster's nodes (kind, k3d, minikube's profile list).
struct CtrOutputTests {
    static let a = "sha256:" + String(repeating: "a", count: 64)
    static let b = "sha256:" + String(repeating: "b", count: 64)

    @Test(arguments: [
        ("complete (2/2)", "true", true),
        ("complete (2/2)", "false", false),
        ("incomplete (1/2)", "false", false),
    ])
    func imagesCheck(status: String, unpacked: String, ready: Bool) throws {
        let text = """
            REF TYPE DIGEST STATUS SIZE UNPACKED
            docker.io/sit/tiny:1 application/vnd.oci.image.manifest.v1+json \(Self.a) \(status) 1.0 MiB/1.0 MiB \(unpacked)
            """
        let rows = CtrOutput.check(text)
        #expect(rows.count == 1)
        #expect(rows.first?.digest == (try Digest(parsing: Self.a)))
        #expect(rows.first?.status == status)
        #expect(rows.first?.isReady == ready)
    }

    @Test(arguments: [
        ("overlayfs", "linux/amd64"),
        ("native", "linux/arm64/v8"),
        ("zfs", nil),
        ("btrfs", nil),
    ] as [(String, String?)])
    func snapshotterPlatform(snapshotter: String, platform: String?) {
        let text = """
            TYPE                            ID                       PLATFORMS      STATUS
            io.containerd.content.v1        content                  -              ok
            io.containerd.snapshotter.v1    native                   linux/arm64/v8 ok
            io.containerd.snapshotter.v1    overlayfs                linux/amd64    ok
            io.containerd.snapshotter.v1    zfs                      linux/amd64    skip
            """
        #expect(CtrOutput.snapshotterPlatform(text, snapshotter: snapshotter)?.description == platform)
    }

    @Test func versionAndLists() throws {
        let version = "Client:\n  Version:  1.6.20\n\nServer:\n  Version:  1.6.20\n  UUID: 78db8fda-f972\n"
        #expect(CtrOutput.serverUUID(version) == "78db8fda-f972")
        #expect(CtrOutput.serverUUID("Client:\n  Version: 1\n") == nil)
        #expect(CtrOutput.contentDigests("\(Self.a)\n\(Self.b)\nnot a digest\n") == [try Digest(parsing: Self.a), try Digest(parsing: Self.b)])
        #expect(CtrOutput.namespaces("default\nk8s.io\n\n") == ["default", "k8s.io"])
    }
}

struct ClusterDiscoveryTests {
    static func container(_ name: String, state: String = "running") -> EngineClient.ContainerSummary {
        try! JSONDecoder().decode(EngineClient.ContainerSummary.self,
                                  from: Data(#"{"Id":"id-\#(name)","Names":["/\#(name)"],"Labels":{},"State":"\#(state)"}"#.utf8))
    }

    @Test func kindTakesEveryLabelledNodeOrThosePicked() throws {
        let found = [Self.container("dev-worker"), Self.container("dev-control-plane")]
        #expect(try ContainerdCluster.kind(name: "dev").nodes(among: found, picked: nil) == ["dev-control-plane", "dev-worker"])
        #expect(try ContainerdCluster.kind(name: "dev").nodes(among: found, picked: ["dev-worker"]) == ["dev-worker"])
        #expect(ContainerdCluster.kind(name: "dev").filter.value == "io.x-k8s.kind.cluster=dev")
        #expect(ContainerdCluster.kind(name: "dev").ctrCommand == ["ctr"])
    }

    @Test func k3dTakesServersAndAgentsWithK3sSocket() throws {
        let found = ["k3d-dev-server-0", "k3d-dev-agent-0", "k3d-dev-agent-1", "k3d-dev-serverlb", "k3d-dev-tools"].map { Self.container($0) }
        let cluster = ContainerdCluster.k3d(name: "dev")
        #expect(try cluster.nodes(among: found, picked: nil) == ["k3d-dev-agent-0", "k3d-dev-agent-1", "k3d-dev-server-0"])
        #expect(cluster.filter.key == "label" && cluster.filter.value == "k3d.cluster=dev")
        #expect(cluster.ctrCommand == ["ctr", "--address", "/run/k3s/containerd/containerd.sock"])
    }

    @Test(arguments: [
        ([String](), nil as [String]?, "no node containers of the kind cluster 'dev'"),
        (["dev-control-plane"], ["dev-worker"], "--nodes names dev-worker, which is not a node"),
    ])
    func refusals(names: [String], picked: [String]?, message: String) {
        let error = #expect(throws: PreloadError.self) {
            try ContainerdCluster.kind(name: "dev").nodes(among: names.map { Self.container($0) }, picked: picked)
        }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func aStoppedNodeIsNamed() {
        let error = #expect(throws: PreloadError.self) {
            try ContainerdCluster.kind(name: "dev").nodes(among: [Self.container("dev-control-plane", state: "exited")], picked: nil)
        }
        #expect(error?.message.contains("node dev-control-plane of the kind cluster 'dev' is exited") == true)
    }
}
