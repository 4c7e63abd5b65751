import Foundation
import Testing

/// `preload --minikube` into a profile on a VM driver (kvm2), whose nodes are reached with
/// `minikube ssh`. A fake `minikube` on PATH answers `profile list -o json` as the real one does
/// and runs `ssh [-n NODE] -- sudo COMMAND` as the VM would, through a shell (minus sudo): `ctr`
/// against one of the test services' containerds (`CONTAINERD_ADDRESS`, which ctr honours), or
/// the real `podman` on a storage of the test's own (cri-o). What the nodes hold is read back with
/// `ctr` and `podman`: tools we did not write.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct MinikubeSSHPreloadTests {
    /// A fake minikube in `dir/fake-bin` for one profile: `nodes` maps each node name ("" is the
    /// primary) to the shell lines that set up its environment. Each ssh call is logged.
    static func fakeMinikube(in dir: URL, profile: String, driver: String = "kvm2", runtime: String,
                             nodes: [(name: String, setup: String)]) throws -> (bin: String, log: URL) {
        let bin = dir.appending(path: "fake-bin-\(profile)")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let log = bin.appending(path: "ssh.log")
        let listed = nodes.map { #"{"Name":"\#($0.name)"}"# }.joined(separator: ",")
        let cases = nodes.map { "  \"\($0.name)\") \($0.setup);;" }.joined(separator: "\n")
        let script = """
            #!/bin/sh
            case "$*" in *"profile list -o json"*) cat <<'EOT'
            {"invalid":[],"valid":[{"Name":"\(profile)","Status":"Running","Config":{"Driver":"\(driver)","KubernetesConfig":{"ContainerRuntime":"\(runtime)"},"Nodes":[\(listed)]}}]}
            EOT
            exit 0;; esac
            node=""
            while [ $# -gt 0 ]; do case "$1" in -n) node="$2"; shift 2;; --) shift; break;; *) shift;; esac; done
            echo "node=$node $*" >> '\(log.path)'
            case "$node" in
            \(cases)
              *) echo "❌  Exiting due to GUEST_NODE_RETRIEVE: Could not find node $node" >&2; exit 80;;
            esac
            command="$*"
            sh -c "${command#sudo }" || { status=$?; echo "ssh: Process exited with status $status" >&2; exit 1; }
            """
        try Data(script.utf8).write(to: bin.appending(path: "minikube"))
        chmod(bin.appending(path: "minikube").path, 0o755)
        return (bin.path, log)
    }

    static func preload(_ built: Built, bin: String, profile: String, _ image: String,
                        _ extra: [String] = []) throws -> (CommandResult, ContainerdPreloadTests.Report?) {
        let result = try built.tool.run(["preload", "--minikube", "--profile", profile, "--json", image] + extra,
                                        environment: ["PATH": "\(bin):/usr/bin:/bin"])
        return (result, result.succeeded ? try JSONDecoder().decode(ContainerdPreloadTests.Report.self, from: result.stdoutData) : nil)
    }

    @Test("kvm2 with containerd: both nodes through minikube ssh, our manifest in each; warm sends nothing")
    func containerdThroughSSH() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try ContainerdPreloadTests.built { built, image in
            let profile = "sitvm\(UUID().uuidString.prefix(6).lowercased())"
            let fake = try Self.fakeMinikube(in: built.dir, profile: profile, runtime: "containerd", nodes: [
                ("", "export CONTAINERD_ADDRESS='\(cluster.nodes[0].containerdAddress)'"),
                ("m02", "export CONTAINERD_ADDRESS='\(cluster.nodes[1].containerdAddress)'"),
            ])
            let (cold, report) = try Self.preload(built, bin: fake.bin, profile: profile, image)
            let first = try #require(report, "\(cold)")
            let manifest = try built.tool.manifestDigest(image)
            for (node, name) in zip(cluster.nodes, [profile, "\(profile)-m02"]) {
                let result = try first.node(name)
                #expect(result.images.map(\.outcome) == ["imported"], "\(cold)")
                #expect(result.bytesSent > 0)
                #expect(try ContainerdPreloadTests.listedDigest(node, image) == manifest, "\(name) lists \(image) with our manifest")
            }
            let calls = try String(contentsOf: fake.log, encoding: .utf8)
            #expect(calls.contains("node=m02 sudo ctr --namespace k8s.io images import"), "\(calls)")

            let (warm, again) = try Self.preload(built, bin: fake.bin, profile: profile, image)
            let second = try #require(again, "\(warm)")
            #expect(second.bytesSent == 0, "\(warm)")
            for node in second.nodes { #expect(node.skipped == [image], "\(warm)") }
        }
    }

    @Test("kvm2 with containerd: a node whose import fails is named with ctr's message; the other loads")
    func failingNodeThroughSSH() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try ContainerdPreloadTests.built { built, image in
            let profile = "sitvmfail\(UUID().uuidString.prefix(6).lowercased())"
            let wrapper = try ContainerdPreloadTests.ctrWrapper(in: built.dir, #"""
                case "$*" in *" import "*) cat >/dev/null; echo 'ctr: failed to ingest: no space left on device' >&2; exit 1;; esac
                """#)
            let fake = try Self.fakeMinikube(in: built.dir, profile: profile, runtime: "containerd", nodes: [
                ("", "export CONTAINERD_ADDRESS='\(cluster.nodes[0].containerdAddress)'"),
                ("m02", "export CONTAINERD_ADDRESS='\(cluster.nodes[1].containerdAddress)' PATH='\(wrapper.path)':$PATH"),
            ])
            let (result, _) = try Self.preload(built, bin: fake.bin, profile: profile, image)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("node \(profile)-m02") && result.stderr.contains("no space left on device"), "\(result.stderr)")
            #expect(!result.stderr.contains("node \(profile):"), "\(result.stderr)")
            #expect(try ContainerdPreloadTests.listedDigest(cluster.nodes[0], image) == (try built.tool.manifestDigest(image)))
            #expect(try ContainerdPreloadTests.listedDigest(cluster.nodes[1], image) == nil, "no half-imported image on the failed node")
        }
    }

    /// The node's podman on storage of its own: vfs works as root anywhere, overlay needs more.
    static func podmanWrapper(in dir: URL) throws -> (bin: URL, podman: (_ arguments: [String]) throws -> CommandResult) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/podman") else {
            if TestServices.isCI() { throw PodmanMissing() }
            try Test.cancel("SKIPPED: podman is not installed; scripts/bootstrap.sh installs it")
        }
        let storage = dir.appending(path: "podman")
        let options = ["--root", storage.appending(path: "root").path, "--runroot", storage.appending(path: "run").path,
                       "--storage-driver", "vfs"]
        let wrapper = dir.appending(path: "podman-bin")
        try FileManager.default.createDirectory(at: wrapper, withIntermediateDirectories: true)
        try Data("#!/bin/sh\nexec /usr/bin/podman \(options.joined(separator: " ")) \"$@\"\n".utf8).write(to: wrapper.appending(path: "podman"))
        chmod(wrapper.appending(path: "podman").path, 0o755)
        return (wrapper, { try Command.run("/usr/bin/podman", options + $0) })
    }

    struct PodmanMissing: Error, CustomStringConvertible {
        var description: String { "podman is not installed but CI=true: scripts/bootstrap.sh installs it" }
    }

    @Test("kvm2 with cri-o: podman load through minikube ssh; podman lists our image; warm sends nothing; a new name is a tag; one jar sends one layer")
    func crioThroughSSH() throws {
        try ContainerdPreloadTests.built { built, image in
            let podman = try Self.podmanWrapper(in: built.dir)
            let profile = "sitcrio\(UUID().uuidString.prefix(6).lowercased())"
            let fake = try Self.fakeMinikube(in: built.dir, profile: profile, runtime: "cri-o", nodes: [("", "PATH='\(podman.bin.path)':$PATH")])
            let (cold, report) = try Self.preload(built, bin: fake.bin, profile: profile, image)
            let first = try #require(report, "\(cold)").node(profile)
            #expect(first.images.map(\.outcome) == ["imported"], "\(cold)")
            #expect(first.platform == "linux/\(TinyBase.goArch)")
            let config = try PreloadTests.configDigest(built.tool, image, dir: built.dir)
            let inspect = try podman.podman(["image", "inspect", "--format", "{{.Id}} {{.Digest}}", image]).check()
            #expect(inspect.stdout == "\(config.dropFirst(7)) \(try built.tool.manifestDigest(image))\n",
                    "podman has our image (config digest as its ID) with our manifest digest: \(inspect)")

            let (warm, again) = try Self.preload(built, bin: fake.bin, profile: profile, image)
            let second = try #require(again, "\(warm)")
            #expect(second.bytesSent == 0, "\(warm)")
            #expect(try second.node(profile).skipped == [image], "\(warm)")

            try built.tool.run(["tag", image, "\(image)-renamed"]).check()
            let (renamed, third) = try Self.preload(built, bin: fake.bin, profile: profile, "\(image)-renamed")
            #expect(try #require(third, "\(renamed)").node(profile).images.map(\.outcome) == ["tagged"], "\(renamed)")
            #expect(third?.bytesSent == 0)
            let tagged = try podman.podman(["image", "inspect", "--format", "{{.Id}}", "\(image)-renamed"]).check()
            #expect(tagged.stdout == "\(config.dropFirst(7))\n", "\(tagged)")

            // After one jar: podman reuses the layers it has, so only the changed one goes.
            let before = try ContainerdPreloadTests.layers(built, image)
            try built.spark.changeJar("spark-sql_2.13-4.3.0.jar")
            try built.tool.build(home: built.spark.home, base: built.base, tag: String(image.split(separator: ":").last!))
            let changed = try ContainerdPreloadTests.layers(built, image).filter { layer in !before.contains { $0.digest == layer.digest } }
            try #require(changed.count == 1, "one jar changes one layer: \(changed)")
            let (delta, fourth) = try Self.preload(built, bin: fake.bin, profile: profile, image)
            let node = try #require(fourth, "\(delta)").node(profile)
            #expect(node.images.first?.blobsSent == 3, "the layer, config and manifest: \(delta)")
            #expect(node.bytesSent < changed[0].size + 64 << 10, "sent \(node.bytesSent) for a \(changed[0].size)-byte layer")
            let reloaded = try podman.podman(["image", "inspect", "--format", "{{.Id}} {{.Digest}}", image]).check()
            #expect(reloaded.stdout == "\(try PreloadTests.configDigest(built.tool, image, dir: built.dir).dropFirst(7)) \(try built.tool.manifestDigest(image))\n",
                    "\(reloaded)")
        }
    }

    @Test("kvm2 with cri-o: a node whose podman fails is named with podman's message")
    func crioFailingNode() throws {
        try ContainerdPreloadTests.built { built, image in
            let podman = try Self.podmanWrapper(in: built.dir)
            let profile = "sitcriofail\(UUID().uuidString.prefix(6).lowercased())"
            // m02's podman refuses every load, as podman does an archive it cannot read.
            let failing = built.dir.appending(path: "podman-failing")
            try FileManager.default.createDirectory(at: failing, withIntermediateDirectories: true)
            try Data(#"""
                #!/bin/sh
                case "$1" in load) cat >/dev/null; echo 'Error: payload does not match any of the supported image formats' >&2; exit 125;; esac
                exec "$(dirname "$0")/../podman-bin/podman" "$@"
                """#.utf8).write(to: failing.appending(path: "podman"))
            chmod(failing.appending(path: "podman").path, 0o755)
            let fake = try Self.fakeMinikube(in: built.dir, profile: profile, runtime: "cri-o", nodes: [
                ("", "PATH='\(podman.bin.path)':$PATH"), ("m02", "PATH='\(failing.path)':$PATH"),
            ])
            let (result, _) = try Self.preload(built, bin: fake.bin, profile: profile, image)
            #expect(result.status == 1, "\(result)")
            // minikube ssh exits 1 whatever the command's status, and says that status on stderr.
            #expect(result.stderr.contains("node \(profile)-m02: podman load failed"), "\(result.stderr)")
            #expect(result.stderr.contains("status 125"), "\(result.stderr)")
            #expect(result.stderr.contains("payload does not match"), "\(result.stderr)")
            #expect(try podman.podman(["image", "exists", image]).status == 0, "the primary still got the image")
        }
    }

    /// A podman in front of the test's one: once `armed` exists, its next load fails as podman's
    /// does when the archive lacks a layer it could not reuse from its storage.
    static func podmanFailingOnce(in dir: URL) throws -> URL {
        let bin = dir.appending(path: "podman-once")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try Data(#"""
            #!/bin/sh
            here="$(dirname "$0")"
            if [ "$1" = load ] && [ -e "$here/armed" ]; then
              rm "$here/armed"; cat >/dev/null
              echo 'Error: payload does not match any of the supported image formats:' >&2
              echo ' * oci-archive: reading blob sha256:0000: open /var/tmp/oci1/blobs/sha256/0000: no such file or directory' >&2
              exit 125
            fi
            exec "$here/../podman-bin/podman" "$@"
            """#.utf8).write(to: bin.appending(path: "podman"))
        chmod(bin.appending(path: "podman").path, 0o755)
        return bin
    }

    @Test("kvm2 with cri-o: a layer podman does not reuse: the whole image goes")
    func crioFallsBackToTheWholeImage() throws {
        try ContainerdPreloadTests.built { built, image in
            let podman = try Self.podmanWrapper(in: built.dir)
            let once = try Self.podmanFailingOnce(in: built.dir)
            let profile = "sitcriowhole\(UUID().uuidString.prefix(6).lowercased())"
            let fake = try Self.fakeMinikube(in: built.dir, profile: profile, runtime: "cri-o", nodes: [("", "PATH='\(once.path)':$PATH")])
            try Self.preload(built, bin: fake.bin, profile: profile, image).0.check()
            try built.spark.changeJar("spark-sql_2.13-4.3.0.jar")
            try built.tool.build(home: built.spark.home, base: built.base, tag: String(image.split(separator: ":").last!))
            try Data().write(to: once.appending(path: "armed"))
            let (result, report) = try Self.preload(built, bin: fake.bin, profile: profile, image, ["--verbose"])
            let loaded = try #require(report, "\(result)").node(profile).images[0]
            #expect(result.stderr.contains("sending the whole image"), "\(result.stderr)")
            #expect(loaded.blobsSent == loaded.blobsTotal, "\(result.stdout)")
            let id = try podman.podman(["image", "inspect", "--format", "{{.Id}}", image]).check()
            #expect(id.stdout == "\(try PreloadTests.configDigest(built.tool, image, dir: built.dir).dropFirst(7))\n", "\(id)")
        }
    }
}
