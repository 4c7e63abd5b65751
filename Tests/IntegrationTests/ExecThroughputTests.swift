import DockerEngine
import Foundation
import Testing

/// How fast an image archive goes into a node's `ctr images import -` through our exec stream,
/// against `docker exec -i NODE ctr … < archive` (what `kind load` does), on the same nodes.
/// `SIT_EXEC_THROUGHPUT_MB` sets the size (default 32; the README's figure uses 500).
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ExecThroughputTests {
    static var megabytes: Int {
        ProcessInfo.processInfo.environment["SIT_EXEC_THROUGHPUT_MB"].flatMap(Int.init) ?? 32
    }

    /// An OCI archive with one uncompressed layer of `megabytes` random bytes, named `reference`.
    static func randomImage(in dir: URL, reference: String) throws -> URL {
        let root = dir.appending(path: "root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Command.run("head", ["-c", "\(megabytes << 20)", "/dev/urandom"], stdin: nil)
            .check().stdoutData.write(to: root.appending(path: "payload"))
        let layout = dir.appending(path: "layout")
        let blobs = layout.appending(path: "blobs/sha256")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let layer = dir.appending(path: "layer.tar")
        try Command.run("tar", ["-C", root.path, "--owner=0", "--group=0", "-cf", layer.path, "payload"]).check()
        let layerDescriptor = try blob(at: layer, into: blobs, mediaType: "application/vnd.oci.image.layer.v1.tar")
        let diffID = layerDescriptor["digest"] as! String
        let config: [String: Any] = ["architecture": TinyBase.goArch, "os": "linux",
                                     "rootfs": ["type": "layers", "diff_ids": [diffID]], "config": [String: Any]()]
        let configDescriptor = try blob(json: config, dir: dir, into: blobs, mediaType: "application/vnd.oci.image.config.v1+json")
        let manifest: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                       "config": configDescriptor, "layers": [layerDescriptor]]
        var manifestDescriptor = try blob(json: manifest, dir: dir, into: blobs, mediaType: "application/vnd.oci.image.manifest.v1+json")
        manifestDescriptor["annotations"] = ["org.opencontainers.image.ref.name": reference]
        try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "manifests": [manifestDescriptor]])
            .write(to: layout.appending(path: "index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: layout.appending(path: "oci-layout"))
        let archive = dir.appending(path: "image.tar")
        try Command.run("tar", ["-C", layout.path, "-cf", archive.path, "."]).check()
        return archive
    }

    /// Moves `file` into `blobs` under its digest and describes it.
    static func blob(at file: URL, into blobs: URL, mediaType: String) throws -> [String: Any] {
        let hex = String(try Command.run("sha256sum", [file.path]).check().stdout.prefix(64))
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
        try FileManager.default.moveItem(at: file, to: blobs.appending(path: hex))
        return ["mediaType": mediaType, "digest": "sha256:\(hex)", "size": size]
    }

    static func blob(json: [String: Any], dir: URL, into blobs: URL, mediaType: String) throws -> [String: Any] {
        let file = dir.appending(path: "blob-\(UUID().uuidString)")
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: file)
        return try blob(at: file, into: blobs, mediaType: mediaType)
    }

    static let importCommand = ["ctr", "-n", "k8s.io", "images", "import", "--digests", "--snapshotter=overlayfs", "-"]

    /// Streams the file from disk in 1 MiB pieces, as the store would.
    static func fileProducer(_ url: URL) -> EngineClient.InputProducer {
        { write in
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty {
                try piece.withUnsafeBytes { try write($0) }
            }
        }
    }

    /// `docker exec -i CONTAINER COMMAND… < FILE`: the CLI reads the file itself, as in `kind load`.
    static func dockerExec(_ docker: DockerDaemon, _ container: String, _ command: [String], stdinFile: URL) throws -> CommandResult {
        try Command.run("sh", ["-c", #"f=$1; shift; exec "$@" < "$f""#, "sh", stdinFile.path, docker.cli]
                            + docker.connectionArguments + ["exec", "-i", container] + command)
    }

    @Test("the bare stream: our exec vs `docker exec -i` into `cat >/dev/null`")
    func streamThroughput() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try TemporaryDirectory.with(prefix: "sit-exec-stream") { dir in
            let file = dir.appending(path: "payload")
            try Command.run("head", ["-c", "\(Self.megabytes << 20)", "/dev/urandom"]).check().stdoutData.write(to: file)
            let client = try ContainerdNodeTests.client(cluster.docker, idleTimeout: .seconds(300))
            let command = ["sh", "-c", "cat >/dev/null"]
            let start = ContinuousClock.now
            let result = try client.exec(in: cluster.nodes[0].container, command: command, stdin: Self.fileProducer(file))
            let ours = (ContinuousClock.now - start).seconds
            #expect(result.exitCode == 0 && result.bytesSent == Int64(Self.megabytes << 20))
            let cliStart = ContinuousClock.now
            try Self.dockerExec(cluster.docker, cluster.nodes[0].container, command, stdinFile: file).check()
            let theirs = (ContinuousClock.now - cliStart).seconds
            print(String(format: "exec stream of %d MB: ours %.2f s, docker exec -i %.2f s", Self.megabytes, ours, theirs))
        }
    }

    @Test("import through our exec stream vs `docker exec -i`, cold, each way on both nodes")
    func importThroughput() throws {
        guard let cluster = try TestServices.kindCluster() else { return }
        try TemporaryDirectory.with(prefix: "sit-exec-throughput") { dir in
            let client = try ContainerdNodeTests.client(cluster.docker, idleTimeout: .seconds(300))
            var ours: [Double] = [], theirs: [Double] = []
            for round in 0 ..< 2 {
                let roundDir = dir.appending(path: "\(round)")
                try FileManager.default.createDirectory(at: roundDir, withIntermediateDirectories: true)
                let reference = "docker.io/sit/throughput-\(UUID().uuidString.prefix(8).lowercased()):1"
                let archive = try Self.randomImage(in: roundDir, reference: reference)
                let size = try FileManager.default.attributesOfItem(atPath: archive.path)[.size] as! Int
                let (mine, other) = round == 0 ? (cluster.nodes[0], cluster.nodes[1]) : (cluster.nodes[1], cluster.nodes[0])
                let start = ContinuousClock.now
                let result = try client.exec(in: mine.container, command: Self.importCommand, stdin: Self.fileProducer(archive))
                ours.append((ContinuousClock.now - start).seconds)
                #expect(result.exitCode == 0, "\(result.standardError)")
                #expect(result.bytesSent == Int64(size))
                let cliStart = ContinuousClock.now
                let cli = try Self.dockerExec(cluster.docker, other.container, Self.importCommand, stdinFile: archive)
                theirs.append((ContinuousClock.now - cliStart).seconds)
                #expect(cli.succeeded, "\(cli)")
                for node in [mine, other] {
                    let check = try node.hostCtr(["-n", "k8s.io", "images", "check"]).check()
                    #expect(check.stdout.split(separator: "\n").contains { $0.hasPrefix(reference + " ") && $0.hasSuffix("true") }, "\(check)")
                }
            }
            print("exec import of \(Self.megabytes) MB: ours \(ours.map { String(format: "%.2f", $0) }) s, docker exec -i \(theirs.map { String(format: "%.2f", $0) }) s")
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
