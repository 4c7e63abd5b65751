import Foundation
import OCI
@testable import Preload
import Support
import Testing

/// How a minikube profile is reached (driver × runtime → transport and loader), how a node is
/// reached through `minikube ssh`, and what podman's answers say.
struct MinikubeDiscoveryTests {
    static func profileList(driver: String, runtime: String, nodes: String = #"[{"Name":"","ControlPlane":true},{"Name":"m02"}]"#) -> Data {
        Data("""
            {"invalid":[],"valid":[{"Name":"other","Status":"Running","Config":{"Driver":"docker","KubernetesConfig":{"ContainerRuntime":"docker"},"Nodes":[{"Name":""}]}},
            {"Name":"p","Status":"Running","Config":{"Name":"p","Driver":"\(driver)","KubernetesConfig":{"ContainerRuntime":"\(runtime)"},"Nodes":\(nodes)}}]}
            """.utf8)
    }

    static let sshNodes = [MinikubeSSHTransport(profile: "p", nodeName: ""), MinikubeSSHTransport(profile: "p", nodeName: "m02")]
    static let containers = ContainerdCluster.minikube(profile: "p", containers: ["p", "p-m02"])

    @Test(arguments: [
        ("docker", "docker", MinikubeRoute.dockerDaemon),
        ("kvm2", "docker", .dockerDaemon),
        ("docker", "", .dockerDaemon),
        ("docker", "containerd", .nodeContainers(containers, .containerd)),
        ("podman", "containerd", .nodeContainers(containers, .containerd)),
        ("docker", "cri-o", .nodeContainers(containers, .crio)),
        ("podman", "crio", .nodeContainers(containers, .crio)),
        ("kvm2", "containerd", .ssh(sshNodes, .containerd)),
        ("qemu2", "containerd", .ssh(sshNodes, .containerd)),
        ("hyperkit", "containerd", .ssh(sshNodes, .containerd)),
        ("virtualbox", "cri-o", .ssh(sshNodes, .crio)),
        ("vfkit", "cri-o", .ssh(sshNodes, .crio)),
        ("hyperv", "crio", .ssh(sshNodes, .crio)),
        ("ssh", "containerd", .ssh(sshNodes, .containerd)),
    ])
    func route(driver: String, runtime: String, expected: MinikubeRoute) throws {
        #expect(try MinikubeProfile.parse(Self.profileList(driver: driver, runtime: runtime), profile: "p").route() == expected)
    }

    @Test func aProfileWithoutNodesHasItsPrimary() throws {
        let profile = try MinikubeProfile.parse(Self.profileList(driver: "kvm2", runtime: "containerd", nodes: "[]"), profile: "p")
        #expect(try profile.route() == .ssh([Self.sshNodes[0]], .containerd))
    }

    @Test(arguments: [
        ("kvm2", "rkt", "p", "runs the container runtime 'rkt', which preload does not know", "minikube image load"),
        ("none", "containerd", "p", "the none driver", "--containerd /run/containerd/containerd.sock"),
        ("docker", "docker", "absent", "minikube has no valid profile 'absent' (it lists: other, p)", "--profile"),
    ])
    func refusals(driver: String, runtime: String, profile: String, message: String, hint: String) {
        let error = #expect(throws: PreloadError.self) {
            try MinikubeProfile.parse(Self.profileList(driver: driver, runtime: runtime), profile: profile).route()
        }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        #expect(error?.hint?.contains(hint) == true, "\(String(describing: error))")
    }

    @Test func notItsJSON() {
        let error = #expect(throws: PreloadError.self) { try MinikubeProfile.parse(Data("not json".utf8), profile: "p") }
        #expect(error?.hint != nil)
    }

    @Test func minikubeMissingFromPath() throws {
        let error = #expect(throws: PreloadError.self) { try MinikubeProfile.read(profile: "p", environment: ["PATH": "/nonexistent"]) }
        #expect(error?.message == "minikube is not on PATH")
        #expect(error?.hint?.contains("--host") == true)
    }

    /// Without an ssh program minikube falls back to its own client, which would alter the archive.
    @Test func sshClientRequired() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "sit-ssh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            try MinikubeSSHTransport.requireSSHClient(searchPath: "/nonexistent:\(dir.path)")
            Issue.record("no ssh on that PATH, yet no error")
        } catch let error as PreloadError {
            #expect(error.message.contains("ssh program"))
            #expect(error.hint?.contains("openssh-client") == true)
        }
        #expect(FileManager.default.createFile(atPath: dir.appending(path: "ssh").path, contents: Data("#!/bin/sh\n".utf8),
                                       attributes: [.posixPermissions: 0o755]))
        try MinikubeSSHTransport.requireSSHClient(searchPath: "/nonexistent:\(dir.path)")
    }

    @Test func nodesArePickedByMachineName() throws {
        #expect(try MinikubeProfile.pick(Self.sshNodes, nil) == Self.sshNodes)
        #expect(try MinikubeProfile.pick(Self.sshNodes, ["p-m02"]) == [Self.sshNodes[1]])
        let error = #expect(throws: PreloadError.self) { try MinikubeProfile.pick(Self.sshNodes, ["m03"]) }
        #expect(error?.message.contains("--nodes names m03, which is not a node of minikube profile 'p' (its nodes: p, p-m02)") == true)
    }

    @Test(arguments: [
        ("", ["--native-ssh=false", "--", "sudo ctr --namespace k8s.io images import -"]),
        ("m02", ["--native-ssh=false", "-n", "m02", "--", "sudo ctr --namespace k8s.io images import -"]),
    ])
    func sshCommandLine(node: String, tail: [String]) {
        let line = MinikubeSSHTransport(profile: "p", nodeName: node).commandLine(["ctr", "--namespace", "k8s.io", "images", "import", "-"])
        #expect(line == ["minikube", "-p", "p", "ssh"] + tail)
    }

    /// The words reach the node's command as they were: the VM's shell (here: sh) splits what
    /// minikube joined with spaces.
    @Test(arguments: [
        ["podman", "info", "--format", "{{.Host.OS}}/{{.Host.Arch}}"],
        ["echo", "it's", "", "a b", "$HOME", "`x`", "\\", "\"q\"", "*", "--platform=linux/amd64"],
    ])
    func shellQuotingRoundTrips(words: [String]) throws {
        let line = words.map(MinikubeSSHTransport.shellQuoted).joined(separator: " ")
        let echoed = try Subprocess.run(["sh", "-c", "set -- \(line); for w in \"$@\"; do printf '%s\\0' \"$w\"; done"])
        #expect(echoed.status == 0, "\(echoed.stderrText)")
        #expect(echoed.stdout.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) } == words)
    }

    @Test(arguments: [
        (#"[{"Id":"abc","Names":["docker.io/library/spark:4"],"Digest":"sha256:d1"},{"Id":"def","Names":null}]"#,
         [PodmanOutput.Image(id: "abc", names: ["docker.io/library/spark:4"], digest: "sha256:d1"), .init(id: "def", names: [], digest: nil)]),
        ("[]", []),
        ("Error: something", nil),
    ] as [(String, [PodmanOutput.Image]?)])
    func podmanImages(text: String, expected: [PodmanOutput.Image]?) {
        #expect(PodmanOutput.images(text) == expected)
    }

    @Test func podmanLayerDiffIDs() throws {
        let a = "sha256:" + String(repeating: "a", count: 64), b = "sha256:" + String(repeating: "b", count: 64)
        let text = #"[{"Id":"x","RootFS":{"Type":"layers","Layers":["\#(a)","\#(b)"]}},{"Id":"y","RootFS":{"Type":"layers","Layers":["\#(a)"]}}]"#
        #expect(PodmanOutput.layerDiffIDs(text) == [try Digest(parsing: a), try Digest(parsing: b)])
        #expect(PodmanOutput.layerDiffIDs("Error: no such image") == [])
    }

    @Test(arguments: [
        ("Error: payload does not match any of the supported image formats:\n * oci-archive: reading blob sha256:ae22: open /var/tmp/oci1/blobs/sha256/ae22: no such file or directory", true),
        ("Error: payload does not match any of the supported image formats:\n * oci-archive: writing blob: no space left on device", false),
        ("Error: open /var/tmp/x: no such file or directory", false),
    ])
    func podmanLoadLacksABlob(stderr: String, lacks: Bool) {
        #expect(PodmanLoadFailure(node: "n", exitCode: 125, stderr: stderr).lacksBlob == lacks)
    }
}
