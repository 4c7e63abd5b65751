import DockerEngine
import Foundation
import Testing

/// The transport into kind-style nodes: the Engine API's exec of the node's own `ctr`, with stdin
/// streamed over the hijacked connection, against real containerd instances that the test
/// services start (scripts/lib/services/containerd.sh). Results are read back with `ctr` on the
/// host, which we did not write.
@Suite(.timeLimit(.minutes(1)))
struct ContainerdNodeTests {
    static func client(_ docker: DockerDaemon, idleTimeout: Duration = .seconds(20)) throws -> EngineClient {
        // A stream that never ends (stdin not closed, say) fails in seconds rather than hang the run.
        try EngineClient(connectingTo: try DockerEndpoint(host: docker.host, tls: nil, source: "SIT_DOCKER_HOST"),
                         idleTimeout: idleTimeout)
    }

    /// Hands `data` to the exec's stdin in pieces of `piece` bytes, as the store would.
    static func producer(_ data: Data, piece: Int = 64 << 10) -> EngineClient.InputProducer {
        { write in
            var offset = 0
            while offset < data.count {
                let end = min(offset + piece, data.count)
                try data[offset ..< end].withUnsafeBytes { try write($0) }
                offset = end
            }
        }
    }

    @Test("the cluster's node containers are found by kind's label, with their roles")
    func nodesByLabel() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        let nodes = try Self.client(cluster.docker).listContainers(label: "io.x-k8s.kind.cluster=\(cluster.name)")
        #expect(Set(nodes.map(\.name)) == Set(cluster.nodes.map(\.container)))
        #expect(Set(nodes.compactMap { $0.Labels?["io.x-k8s.kind.role"] }) == ["control-plane", "worker"])
        #expect(try Self.client(cluster.docker).listContainers(label: "io.x-k8s.kind.cluster=no-such-\(UUID())").isEmpty)
    }

    @Test("each node's ctr answers through exec, with its own containerd")
    func ctrVersionInEachNode() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        let client = try Self.client(cluster.docker)
        for node in cluster.nodes {
            let result = try client.exec(in: node.container, command: ["ctr", "--namespace", "k8s.io", "version"])
            #expect(result.exitCode == 0, "\(node.container): \(result.standardError)")
            #expect(result.standardOutput.contains("Server:"), "\(result.standardOutput)")
            let host = try node.hostCtr(["version"]).check()
            let uuid = { (text: String) in text.split(separator: "\n").first { $0.contains("UUID") } }
            #expect(uuid(result.standardOutput) != nil && uuid(result.standardOutput) == uuid(host.stdout),
                    "the node's ctr must reach the containerd at \(node.containerdAddress)")
        }
    }

    @Test("stdout, stderr and the exit code come back apart")
    func outputStreamsAndExitCode() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        let result = try Self.client(cluster.docker).exec(
            in: cluster.nodes[0].container, command: ["sh", "-c", "echo out; echo err >&2; echo more; exit 3"])
        #expect(result.exitCode == 3)
        #expect(result.standardOutput == "out\nmore\n")
        #expect(result.standardError == "err\n")
    }

    @Test("stdin streams in whole and ends: the node counts every byte", arguments: [0, 1, 5_000_003])
    func stdinIsStreamedAndClosed(size: Int) throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        let data = Data((0 ..< size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        let result = try Self.client(cluster.docker).exec(
            in: cluster.nodes[1].container, command: ["sh", "-c", "cat | wc -c"], stdin: Self.producer(data, piece: 7919))
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "\(size)")
        #expect(result.bytesSent == Int64(size))
        #expect(result.inputComplete)
    }

    @Test("a producer's failure ends the exec with that error")
    func producerFailure() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        struct StoreBroke: Error {}
        #expect(throws: StoreBroke.self) {
            try Self.client(cluster.docker).exec(in: cluster.nodes[0].container, command: ["sh", "-c", "cat >/dev/null"]) { write in
                try [UInt8](repeating: 1, count: 100_000).withUnsafeBytes { try write($0) }
                throw StoreBroke()
            }
        }
    }

    @Test("exec in a container that does not exist names it")
    func missingContainer() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        let error = #expect(throws: DockerError.self) {
            try Self.client(cluster.docker).exec(in: "no-such-node", command: ["true"])
        }
        #expect(error?.message.contains("no-such-node") == true, "\(String(describing: error))")
        #expect(error?.message.contains("404") == true, "\(String(describing: error))")
    }

    /// A tiny OCI image as an archive named `reference`, and its manifest digest.
    static func tinyArchive(in dir: URL, reference: String) throws -> (archive: URL, manifest: String) {
        let layout = dir.appending(path: "layout")
        try TinyBase.makeOCIImage(layout: layout, tag: "1")
        try rename(layout: layout, to: reference)
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: layout.appending(path: "index.json"))) as! [String: Any]
        let archive = dir.appending(path: "image.tar")
        try Command.run("tar", ["-C", layout.path, "-cf", archive.path, "."]).check()
        return (archive, (index["manifests"] as! [[String: Any]])[0]["digest"] as! String)
    }

    @Test("an OCI archive streamed into each node's `ctr images import -` is listed and unpacked there")
    func importThroughExec() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try TemporaryDirectory.with(prefix: "sit-ctr-import") { dir in
            let reference = "docker.io/sit/tiny-\(UUID().uuidString.prefix(8).lowercased()):1"
            let (archive, manifest) = try Self.tinyArchive(in: dir, reference: reference)
            let data = try Data(contentsOf: archive)
            let client = try Self.client(cluster.docker)
            for node in cluster.nodes {
                let result = try client.exec(
                    in: node.container,
                    command: ["ctr", "--namespace", "k8s.io", "images", "import", "--digests", "--snapshotter=overlayfs", "-"],
                    stdin: Self.producer(data))
                #expect(result.exitCode == 0, "\(node.container): \(result.standardOutput) \(result.standardError)")
                #expect(result.bytesSent == Int64(data.count))
                let listed = try client.exec(in: node.container, command: ["ctr", "-n", "k8s.io", "images", "ls"])
                let row = listed.standardOutput.split(separator: "\n").first { $0.hasPrefix(reference + " ") }
                #expect(row?.contains(manifest) == true, "\(node.container): \(listed.standardOutput)")
                let check = try node.hostCtr(["-n", "k8s.io", "images", "check"]).check()
                let checked = check.stdout.split(separator: "\n").first { $0.hasPrefix(reference + " ") }
                #expect(checked?.contains(manifest) == true && checked?.contains("complete") == true
                        && checked?.hasSuffix("true") == true, "\(check)")
            }
        }
    }

    /// What a delta preload relies on, checked against this containerd: an archive that leaves out
    /// a layer the node's content store holds imports and unpacks; a node without that layer
    /// refuses it naming the digest, and keeps an incomplete image record under the name.
    @Test("`ctr images import` of an archive without a blob the node already has")
    func importLeavingOutAPresentBlob() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try TemporaryDirectory.with(prefix: "sit-ctr-partial") { dir in
            let unique = UUID().uuidString.prefix(8).lowercased()
            let image = try RandomImage(in: dir, reference: "docker.io/sit/full-\(unique):1", bytes: 1 << 20)
            let full = try image.archive(at: dir.appending(path: "full.tar"))
            let client = try Self.client(cluster.docker)
            let (holder, lacker) = (cluster.nodes[0], cluster.nodes[1])
            let command = ["ctr", "-n", "k8s.io", "images", "import", "--digests", "--snapshotter=overlayfs", "-"]
            let first = try client.exec(in: holder.container, command: command, stdin: Self.producer(try Data(contentsOf: full)))
            try #require(first.exitCode == 0, "\(first.standardError)")

            let partialName = "docker.io/sit/partial-\(unique):1"
            try Self.rename(layout: image.layout, to: partialName)
            let partial = try Data(contentsOf: try image.archive(at: dir.appending(path: "partial.tar"), omitting: [image.layerDigest]))
            #expect(partial.count < 64 << 10, "the partial archive must not carry the 1 MiB layer")

            let accepted = try client.exec(in: holder.container, command: command, stdin: Self.producer(partial))
            #expect(accepted.exitCode == 0, "\(accepted.standardError)")
            let check = try holder.hostCtr(["-n", "k8s.io", "images", "check"]).check().stdout
            let row = check.split(separator: "\n").first { $0.hasPrefix(partialName + " ") }
            #expect(row?.contains(image.manifestDigest) == true && row?.contains("complete") == true && row?.hasSuffix("true") == true,
                    "\(check)")

            let refused = try client.exec(in: lacker.container, command: command, stdin: Self.producer(partial))
            #expect(refused.exitCode != 0)
            #expect(refused.standardError.contains("\(image.layerDigest): not found"), "\(refused.standardError)")
            let left = try lacker.hostCtr(["-n", "k8s.io", "images", "check"]).check().stdout
            #expect(left.split(separator: "\n").contains { $0.hasPrefix(partialName + " ") && $0.contains("incomplete") }, "\(left)")
        }
    }

    /// Points the layout's only manifest at a new reference name.
    static func rename(layout: URL, to reference: String) throws {
        let indexURL = layout.appending(path: "index.json")
        var index = try JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as! [String: Any]
        var manifests = index["manifests"] as! [[String: Any]]
        manifests[0]["annotations"] = ["org.opencontainers.image.ref.name": reference]
        index["manifests"] = manifests
        try JSONSerialization.data(withJSONObject: index).write(to: indexURL)
    }

    @Test("a broken archive fails the import with ctr's message and exit code")
    func importOfGarbage() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        let result = try Self.client(cluster.docker).exec(
            in: cluster.nodes[0].container, command: ["ctr", "-n", "k8s.io", "images", "import", "-"],
            stdin: Self.producer(Data(repeating: 0x41, count: 4096)))
        #expect(result.exitCode != 0)
        #expect(result.standardError.contains("ctr:"), "\(result.standardError)")
    }
}
