import DockerEngine
import Foundation
import Testing

/// How fast an image archive goes into a node's `ctr images import -` through our exec stream,
/// against `docker exec -i NODE ctr … < archive` (what `kind load` does), on the same nodes.
/// `SIT_EXEC_THROUGHPUT_MB` sets the size (default 32). Figures are printed, not asserted: the
/// machine is shared, and what matters here is that both complete and verify.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ExecThroughputTests {
    static var megabytes: Int {
        ProcessInfo.processInfo.environment["SIT_EXEC_THROUGHPUT_MB"].flatMap(Int.init) ?? 32
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
                let archive = try RandomImage(in: roundDir, reference: reference, bytes: Self.megabytes << 20)
                    .archive(at: roundDir.appending(path: "image.tar"))
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
