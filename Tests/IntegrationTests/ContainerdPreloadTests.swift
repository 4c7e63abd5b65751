import Foundation
import Testing

/// `preload` into containerd nodes (kind, minikube's containerd runtime, a containerd socket),
/// against the real containerd instances and kind-style node containers that the test services
/// start. What the nodes hold is read back with `ctr` on the host and a container started from
/// the image with `ctr run`: tools we did not write.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ContainerdPreloadTests {
    struct Report: Decodable {
        struct Node: Decodable {
            var node: String
            var platform: String?
            var bytesSent: Int
            var images: [Image]
            var skipped: [String]
        }

        struct Image: Decodable {
            var reference: String
            var manifestDigest: String
            var outcome: String
            var blobsSent: Int?
            var blobsTotal: Int?
        }

        var nodes: [Node]
        var bytesSent: Int
        var imagePullPolicy: String

        func node(_ name: String) throws -> Node { try #require(nodes.first { $0.node == name }, "\(nodes.map(\.node))") }
    }

    /// A Spark image built from the fixture whose jars no other test has, so the first preload
    /// of it is cold (only the tiny base layer may be on a node already).
    static func built(_ body: (Built, String) throws -> Void) throws {
        try Built.with { built in
            let unique = UUID().uuidString.prefix(8).lowercased()
            for jar in ["spark-core_2.13-4.3.0.jar", "spark-sql_2.13-4.3.0.jar"] {
                try SparkFixture.pseudoRandomBytes(count: 1_000_000, seed: "\(unique)-\(jar)").write(to: built.spark.home.appending(path: "jars/\(jar)"))
            }
            try built.spark.makeUnique()
            try built.tool.build(home: built.spark.home, base: built.base, tag: String(unique))
            try body(built, "localhost:5000/spark/spark:\(unique)")
        }
    }

    static func preload(_ built: Built, _ cluster: KindCluster, _ image: String, _ extra: [String] = []) throws -> (CommandResult, Report?) {
        let result = try built.tool.run(["preload", "--host", cluster.docker.host, "--json", image] + extra)
        return (result, result.succeeded ? try JSONDecoder().decode(Report.self, from: result.stdoutData) : nil)
    }

    /// The manifest digest the node's containerd lists under `image`, read on the host.
    static func listedDigest(_ node: KindCluster.Node, _ image: String, namespace: String = "k8s.io") throws -> String? {
        let listed = try node.hostCtr(["-n", namespace, "images", "ls"]).check().stdout
        return listed.split(separator: "\n").first { $0.hasPrefix(image + " ") }?
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first.map(String.init)
    }

    /// Its images first; containerd's garbage collector then takes their content and snapshots.
    static func removeNamespace(_ namespace: String, on node: KindCluster.Node) {
        let names = (try? node.hostCtr(["-n", namespace, "images", "ls", "-q"]).check().stdout.split(separator: "\n").map(String.init)) ?? []
        if !names.isEmpty { _ = try? node.hostCtr(["-n", namespace, "images", "rm", "--sync"] + names) }
        _ = try? node.hostCtr(["namespaces", "rm", namespace])
    }

    static func layers(_ built: Built, _ image: String) throws -> [(digest: String, size: Int)] {
        let archive = built.dir.appending(path: "layers-\(UUID().uuidString).tar")
        try built.tool.run(["save", image, "-o", archive.path]).check()
        let raw = try Command.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive.path)"]).check()
        let manifest = try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any]
        return (manifest["layers"] as! [[String: Any]]).map { ($0["digest"] as! String, $0["size"] as! Int) }
    }

    /// A directory for /usr/local/bin in a node container: its `ctr`, first on PATH, runs `script`
    /// (a shell `case` on the arguments) before the real one.
    static func ctrWrapper(in dir: URL, _ script: String) throws -> URL {
        let wrapper = dir.appending(path: "wrapper-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: wrapper, withIntermediateDirectories: true)
        try Data("#!/bin/sh\n\(script)\nexec /usr/bin/ctr \"$@\"\n".utf8).write(to: wrapper.appending(path: "ctr"))
        chmod(wrapper.appending(path: "ctr").path, 0o755)
        return wrapper
    }

    /// One more node container on the test daemon, reaching `node`'s containerd at `socketDir`.
    static func startNode(_ cluster: KindCluster, _ container: String, label: String, reaching node: KindCluster.Node,
                          socketDir: String = "/run/containerd", wrapper: URL? = nil) throws {
        let socket = (node.containerdAddress as NSString).deletingLastPathComponent
        try cluster.docker.run(["run", "-d", "--name", container, "--network", "none", "--label", label, "-v", "\(socket):\(socketDir)"]
                               + (wrapper.map { ["-v", "\($0.path):/usr/local/bin:ro"] } ?? []) + ["sit-kind-node:ctr"]).check()
    }

    /// A kind cluster of its own (`PREFIX…`) made of more node containers, `roles` each reaching a
    /// test node's containerd with an optional ctr wrapper; removed afterwards.
    static func extraCluster(_ prefix: String, _ cluster: KindCluster, _ roles: [(role: String, node: KindCluster.Node, wrapper: URL?)],
                             _ body: (_ name: String) throws -> Void) throws {
        let name = "\(prefix)\(UUID().uuidString.prefix(6).lowercased())"
        let containers = roles.map { "\(name)-\($0.role)" }
        defer { _ = try? cluster.docker.run(["rm", "-f"] + containers) }
        for (container, role) in zip(containers, roles) {
            try startNode(cluster, container, label: "io.x-k8s.kind.cluster=\(name)", reaching: role.node, wrapper: role.wrapper)
        }
        try body(name)
    }

    @Test("cold to two nodes, runnable there; warm sends nothing; after one jar, only its layer")
    func coldWarmAndOneJar() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try Self.built { built, image in
            let (cold, report) = try Self.preload(built, cluster, image, ["--kind", "--cluster", cluster.name])
            let first = try #require(report, "\(cold)")
            let manifest = try built.tool.manifestDigest(image)
            for node in cluster.nodes {
                let result = try first.node(node.container)
                #expect(result.images.map(\.outcome) == ["imported"], "\(cold)")
                #expect(result.platform == "linux/\(TinyBase.goArch)")
                #expect(try Self.listedDigest(node, image) == manifest, "\(node.container) lists \(image) with our manifest")
                let id = "sit-run-\(UUID().uuidString.prefix(8))"
                let run = try node.hostCtr(["-n", "k8s.io", "run", "--rm", image, id, "/opt/spark/bin/spark-submit", "--version"]).check()
                #expect(run.stdout == "spark-submit --version\n", "\(run)")
            }
            #expect(first.imagePullPolicy == "IfNotPresent")
            #expect(cold.stderr.contains("imagePullPolicy: IfNotPresent"), "the pod's pull policy is printed: \(cold)")

            let (warm, again) = try Self.preload(built, cluster, image, ["--kind", "--cluster", cluster.name])
            let second = try #require(again, "\(warm)")
            #expect(second.bytesSent == 0, "\(warm)")
            for node in second.nodes { #expect(node.skipped == [image], "\(warm)") }

            let before = try Self.layers(built, image)
            try built.spark.changeJar("spark-sql_2.13-4.3.0.jar")
            try built.tool.build(home: built.spark.home, base: built.base, tag: String(image.split(separator: ":").last!))
            let after = try Self.layers(built, image)
            let changed = after.filter { layer in !before.contains { $0.digest == layer.digest } }
            try #require(changed.count == 1, "one jar changes one layer: \(changed)")
            let (delta, third) = try Self.preload(built, cluster, image, ["--kind", "--cluster", cluster.name])
            for node in try #require(third, "\(delta)").nodes {
                #expect(node.images.first?.blobsSent == 3, "the layer, config and manifest: \(delta)")
                #expect(node.bytesSent < changed[0].size + 64 << 10, "\(node.node) sent \(node.bytesSent) for a \(changed[0].size)-byte layer")
            }
            for node in cluster.nodes { #expect(try Self.listedDigest(node, image) == (try built.tool.manifestDigest(image))) }
        }
    }

    /// In a namespace of its own, each node lacks even the base: the bottom layer goes ahead and is
    /// unpacked while the rest streams in, then the image is imported under its name. The image is
    /// complete, unpacked and runnable, and no staging name is left; one a killed preload left is
    /// removed by the next preload.
    @Test("cold, with the base absent: the bottom layer ahead, staging names gone, runnable; stale ones removed")
    func stagedColdImport() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try Self.built { built, image in
            let namespace = "sit-staged-\(UUID().uuidString.prefix(8).lowercased())"
            for node in cluster.nodes { try node.hostCtr(["namespaces", "create", namespace]).check() }
            defer { for node in cluster.nodes { Self.removeNamespace(namespace, on: node) } }
            let (cold, report) = try Self.preload(built, cluster, image, ["--kind", "--cluster", cluster.name, "--namespace", namespace, "--verbose"])
            #expect(try #require(report, "\(cold)").nodes.allSatisfy { $0.images.map(\.outcome) == ["imported"] }, "\(cold)")
            for node in cluster.nodes {
                #expect(cold.stderr.contains("\(node.container): unpacking the bottom layer"), "\(cold.stderr)")
                let check = try node.hostCtr(["-n", namespace, "images", "check"]).check().stdout
                let row = try #require(check.split(separator: "\n").first { $0.hasPrefix(image + " ") }, "\(check)")
                #expect(row.contains(try built.tool.manifestDigest(image)) && row.contains("complete") && row.hasSuffix("true"), "\(row)")
                #expect(!check.contains("spark-image-tool-staging"), "staging names are removed: \(check)")
                let run = try node.hostCtr(["-n", namespace, "run", "--rm", image, "sit-run-\(UUID().uuidString.prefix(8))",
                                            "/opt/spark/bin/spark-submit", "--version"]).check()
                #expect(run.stdout == "spark-submit --version\n", "\(run)")
            }

            // What a preload killed between its imports leaves is removed by the next one; what a
            // running preload uses (made just now) is not.
            let node = cluster.nodes[0]
            let (killed, running) = ("localhost/spark-image-tool-staging:1000-deadbeef-bottom",
                                     "localhost/spark-image-tool-staging:\(Int(Date().timeIntervalSince1970))-cafebabe-bottom")
            for name in [killed, running] { try node.hostCtr(["-n", namespace, "images", "tag", image, name]).check() }
            let (warm, _) = try Self.preload(built, cluster, image, ["--kind", "--cluster", cluster.name, "--nodes", node.container,
                                                                     "--namespace", namespace, "--verbose"])
            #expect(warm.stderr.contains("removing \(killed)"), "\(warm.stderr)")
            let names = try node.hostCtr(["-n", namespace, "images", "ls", "-q"]).check().stdout.split(separator: "\n").map(String.init)
            #expect(!names.contains(killed) && names.contains(running) && names.contains(image), "\(names)")

            // A running preload's staging name is about to go: never the source of a tag (the image
            // goes again, though every blob is there).
            try node.hostCtr(["-n", namespace, "images", "rm"] + names.filter { $0 != running }).check()
            let (again, report2) = try Self.preload(built, cluster, image, ["--kind", "--cluster", cluster.name, "--nodes", node.container,
                                                                           "--namespace", namespace])
            #expect(try #require(report2, "\(again)").nodes.first?.images.map(\.outcome) == ["imported"], "\(again)")
            #expect(try Self.listedDigest(node, image, namespace: namespace) == (try built.tool.manifestDigest(image)))
        }
    }

    /// A node reached through a socket on this host (`--containerd`) gets the image; then a
    /// second image on the same base goes to both nodes through minikube's containerd runtime
    /// (a fake `minikube` on PATH answers as the real one's JSON does): the node that has the
    /// base sends no base layer.
    @Test("--containerd, --minikube with the containerd runtime, and a node that has the base")
    func socketMinikubeAndSharedBase() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try Self.built { built, image in
            let holder = cluster.nodes[0]
            let (local, report) = try Self.preload(built, cluster, image, ["--containerd", holder.containerdAddress])
            #expect(try #require(report, "\(local)").nodes.map(\.node) == [holder.containerdAddress])
            #expect(try Self.listedDigest(holder, image) == (try built.tool.manifestDigest(image)))

            try built.spark.changeJar("spark-core_2.13-4.3.0.jar")
            let tag = "\(image.split(separator: ":").last!)-second"
            try built.tool.build(home: built.spark.home, base: built.base, tag: tag)
            let second = "localhost:5000/spark/spark:\(tag)"
            let nodes = cluster.nodes.map { #"{"Name":"\#($0.container.dropFirst(cluster.name.count + 1))"}"# }.joined(separator: ",")
            let bin = try PreloadTests.fakeMinikube(in: built.dir, output: """
                {"invalid":[],"valid":[{"Name":"\(cluster.name)","Status":"Running","Config":{"Driver":"docker","KubernetesConfig":{"ContainerRuntime":"containerd"},"Nodes":[\(nodes)]}}]}
                """)
            let result = try built.tool.run(["preload", "--minikube", "--profile", cluster.name, "--json", second],
                                            environment: ["PATH": "\(bin):/usr/bin:/bin", "DOCKER_HOST": cluster.docker.host])
            let both = try JSONDecoder().decode(Report.self, from: result.check().stdoutData)
            let (had, lacked) = (try both.node(cluster.nodes[0].container), try both.node(cluster.nodes[1].container))
            #expect(had.images.first?.blobsSent == 3, "only the changed layer, config and manifest, no base layer: \(result.stdout)")
            #expect(had.bytesSent < lacked.bytesSent, "\(result.stdout)")
            for node in cluster.nodes { #expect(try Self.listedDigest(node, second) == (try built.tool.manifestDigest(second))) }
        }
    }

    /// Two more node containers in a cluster of their own: one healthy, one whose ctr fails every
    /// import with containerd's kind of message. The healthy one gets the image; the error names
    /// the other and carries the message; the broken node keeps no image record.
    @Test("a node that fails the import is named with containerd's message; the other still loads")
    func oneNodeFails() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try Self.built { built, image in
            let wrapper = try Self.ctrWrapper(in: built.dir, #"""
                case "$*" in *" import "*) cat >/dev/null; echo 'ctr: failed to ingest: no space left on device' >&2; exit 1;; esac
                """#)
            try Self.extraCluster("sitfail", cluster, [("control-plane", cluster.nodes[0], nil), ("worker", cluster.nodes[1], wrapper)]) { name in
                let good = "\(name)-control-plane", bad = "\(name)-worker"
                let (result, _) = try Self.preload(built, cluster, image, ["--kind", "--cluster", name])
                #expect(result.status == 1, "\(result)")
                #expect(result.stderr.contains("node \(bad)") && result.stderr.contains("no space left on device"), "\(result.stderr)")
                #expect(!result.stderr.contains("node \(good):"), "\(result.stderr)")
                #expect(try Self.listedDigest(cluster.nodes[0], image) == (try built.tool.manifestDigest(image)))
                #expect(try Self.listedDigest(cluster.nodes[1], image) == nil, "no half-imported image on the failed node")
            }
        }
    }

    /// A node whose content store lists blobs it does not have (as when containerd's garbage
    /// collector removes them between the listing and the import): the delta import fails on a
    /// missing digest, the incomplete image is removed, the full archive goes, and that containerd
    /// gets full archives from then on.
    /// In a namespace of its own, so that the base is there only when listed falsely: with every
    /// layer lost, the import is one; with only the top one, the named import after the two staging
    /// ones is what fails.
    @Test("a blob the node listed but lost: the full archive, remembered", arguments: [true, false])
    func vanishedBlobFallsBackToTheFullArchive(baseLost: Bool) throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try Self.built { built, image in
            let wrapper = try Self.ctrWrapper(in: built.dir, #"""
                case "$*" in *"content ls"*) /usr/bin/ctr "$@" && cat /usr/local/bin/lost && echo; exit;; esac
                """#)
            let layers = try Self.layers(built, image).map(\.digest)
            let lost = baseLost ? layers : [layers.last!]
            try lost.joined(separator: "\n").write(to: wrapper.appending(path: "lost"), atomically: true, encoding: .utf8)
            let namespace = "sit-gone-\(UUID().uuidString.prefix(8).lowercased())"
            try cluster.nodes[1].hostCtr(["namespaces", "create", namespace]).check()
            defer { Self.removeNamespace(namespace, on: cluster.nodes[1]) }
            try Self.extraCluster("sitgone", cluster, [("worker", cluster.nodes[1], wrapper)]) { name in
                let (first, report) = try Self.preload(built, cluster, image, ["--kind", "--cluster", name, "--namespace", namespace, "--verbose"])
                let loaded = try #require(report, "\(first)").nodes[0].images[0]
                #expect(first.stderr.contains("sending the full archive"), "\(first.stderr)")
                let beforeFallback = first.stderr.components(separatedBy: "a blob it listed is gone")[0]
                #expect(beforeFallback.contains("unpacking the bottom layer") != baseLost, "the failed import was staged unless the base was listed: \(first.stderr)")
                #expect(loaded.blobsSent == loaded.blobsTotal, "\(first.stdout)")
                #expect(try Self.listedDigest(cluster.nodes[1], image, namespace: namespace) == (try built.tool.manifestDigest(image)))

                try built.spark.changeJar("spark-sql_2.13-4.3.0.jar")
                try built.tool.build(home: built.spark.home, base: built.base, tag: String(image.split(separator: ":").last!))
                let (second, again) = try Self.preload(built, cluster, image, ["--kind", "--cluster", name, "--namespace", namespace, "--verbose"])
                let reloaded = try #require(again, "\(second)").nodes[0].images[0]
                #expect(!second.stderr.contains("sending the full archive"), "remembered, not found out again: \(second.stderr)")
                #expect(reloaded.blobsSent == reloaded.blobsTotal, "\(second.stdout)")
            }
        }
    }

    /// k3d's shape: `k3d-NAME-server-0` and `k3d-NAME-agent-0` labelled `k3d.cluster=NAME`, with
    /// k3s's containerd socket at /run/k3s/containerd (here: the test nodes' containerds), and a
    /// load balancer container that is no node.
    @Test("--k3d finds servers and agents and reaches k3s's socket")
    func k3dNodes() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try Self.built { built, image in
            let name = "sitk3d\(UUID().uuidString.prefix(6).lowercased())"
            let containers = ["k3d-\(name)-server-0", "k3d-\(name)-agent-0", "k3d-\(name)-serverlb"]
            defer { _ = try? cluster.docker.run(["rm", "-f"] + containers) }
            for (container, node) in zip(containers, cluster.nodes + [cluster.nodes[0]]) {
                try Self.startNode(cluster, container, label: "k3d.cluster=\(name)", reaching: node, socketDir: "/run/k3s/containerd")
            }
            let (result, report) = try Self.preload(built, cluster, image, ["--k3d", "--cluster", name])
            #expect(try #require(report, "\(result)").nodes.map(\.node).sorted() == containers.prefix(2).sorted())
            for node in cluster.nodes { #expect(try Self.listedDigest(node, image) == (try built.tool.manifestDigest(image))) }
        }
    }

    @Test("a namespace Kubernetes does not see and the node lacks, and a platform the node does not run, are refused",
          arguments: [
              (["--namespace", "no-such-namespace"], "has no namespace 'no-such-namespace'"),
              (["--platform", "linux/s390x"], "not the requested linux/s390x"),
              (["--snapshotter", "zfs"], "has no working zfs snapshotter"),
          ])
    func refusals(extra: [String], message: String) throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try TemporaryDirectory.with { dir in
            let result = try Tool(store: dir.appending(path: "store")).run(
                ["preload", "--host", cluster.docker.host, "--kind", "--cluster", cluster.name, "spark:missing"] + extra)
            #expect(result.status == 1, "\(result)")
            for node in cluster.nodes { #expect(result.stderr.contains("node \(node.container)"), "\(result.stderr)") }
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }

    @Test("a cluster with no nodes is named")
    func noSuchCluster() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try TemporaryDirectory.with { dir in
            let result = try Tool(store: dir.appending(path: "store")).run(
                ["preload", "--host", cluster.docker.host, "--kind", "--cluster", "no-such-cluster", "spark:missing"])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("no node containers of the kind cluster 'no-such-cluster'"), "\(result.stderr)")
        }
    }
}
