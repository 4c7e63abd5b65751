import Support
import Foundation
import Testing

/// preload against the real dockerd on a Unix socket and the TLS one on tcp, the way minikube's
/// daemon is reached.
@Suite(.serialized)
struct PreloadTests {
    static func built(_ body: (Built, String) throws -> Void) throws {
        try Built.with { built in
            try built.spark.makeUnique()
            let image = "localhost:5000/preload/spark:\(UUID().uuidString.prefix(8).lowercased())"
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", "localhost:5000/preload", "-t",
                                String(image.split(separator: ":").last!), "--base", "rootfs:\(built.base.path)"]).check()
            try body(built, image)
        }
    }

    /// The config digest, which Docker reports as the image ID.
    static func configDigest(_ tool: Tool, _ image: String, dir: URL) throws -> String {
        let archive = dir.appending(path: "inspect-\(UUID().uuidString).tar")
        try tool.run(["save", image, "-o", archive.path]).check()
        let raw = try Command.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive.path)"]).check()
        let manifest = try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any]
        return (manifest["config"] as! [String: Any])["digest"] as! String
    }

    static func lastLayerSize(_ tool: Tool, _ image: String, dir: URL) throws -> Int {
        let archive = dir.appending(path: "layers-\(UUID().uuidString).tar")
        try tool.run(["save", image, "-o", archive.path]).check()
        let raw = try Command.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive.path)"]).check()
        let manifest = try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any]
        return ((manifest["layers"] as! [[String: Any]]).last!["size"] as! Int)
    }

    static func bytesSent(_ result: CommandResult) -> Int? {
        guard let range = result.stdout.range(of: #"\((\d+) bytes\)"#, options: .regularExpression) else { return nil }
        return Int(result.stdout[range].dropFirst().prefix { $0.isNumber })
    }

    @Test func loadsThenSkipsThenSendsOnlyTheChangedLayer() throws {
        guard let docker = try TestServices.docker() else { return }
        try Self.built { built, image in
            defer { _ = try? docker.run(["rmi", "-f", image]) }
            let first = try built.tool.run(["preload", "--host", docker.host, image]).check()
            // A full archive, or a delta when another test already loaded the same base layer.
            #expect(first.stdout.contains("loaded: full archive") || first.stdout.contains("loaded: 11 of 12 layers sent"), "\(first)")
            let inspect = try docker.run(["image", "inspect", "--format", "{{.Id}} {{json .RepoTags}}", image]).check()
            #expect(inspect.output == "\(try Self.configDigest(built.tool, image, dir: built.dir)) [\"\(image)\"]")
            let run = try docker.run(["run", "--rm", "--network", "none", image, "sh", "-c", "id -u"]).check()
            #expect(run.stdout.hasSuffix("185\n"), "\(run)")

            let again = try built.tool.run(["preload", "--host", docker.host, image]).check()
            #expect(again.stdout.contains("already loaded"), "\(again)")
            #expect(Self.bytesSent(again) == 0, "no archive is sent: \(again)")

            try built.spark.changeJar("spark-sql_2.13-4.3.0.jar")
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", "localhost:5000/preload", "-t",
                                String(image.split(separator: ":").last!), "--base", "rootfs:\(built.base.path)"]).check()
            let delta = try built.tool.run(["preload", "--host", docker.host, image]).check()
            #expect(delta.stdout.contains("1 of 12 layers sent"), "\(delta)")
            let layer = try Self.lastLayerSize(built.tool, image, dir: built.dir)
            let sent = try #require(Self.bytesSent(delta))
            #expect(sent < 2 * layer, "sent \(sent) bytes for a \(layer)-byte layer")
            let id = try docker.run(["image", "inspect", "--format", "{{.Id}}", image]).check()
            #expect(id.output == (try Self.configDigest(built.tool, image, dir: built.dir)))
        }
    }

    /// A layer that gzip barely shrinks, or a small one, goes to the daemon as its uncompressed tar, which the
    /// daemon then need not inflate; one that compresses well goes as stored. Neither changes the
    /// image's ID or diff_ids, and the bytes reported sent are the archive's: per sent layer its
    /// tar (as `docker save` gives it back) or its blob, plus a header each, manifest and config.
    /// The examples layer (4 MB of a file, a tenth zeros) is 400 KB smaller compressed and the data
    /// layer (3.7 MB of text) a few KB, so sending either the other way would miss the count.
    @Test func poorlyCompressedLayersAreSentInflatedKeepingTheIDAndCountingTheBytes() throws {
        guard let docker = try TestServices.docker() else { return }
        try Built.with { built in
            try built.spark.makeUnique()
            let text = String(repeating: "spark-image-tool preload \(UUID().uuidString)\n", count: 60_000)
            try Data(text.utf8).write(to: built.spark.home.appending(path: "data/compressible.txt"))
            let mostlyRandom = SparkFixture.pseudoRandomBytes(count: 3_600_000, seed: "mostly-random \(UUID())") + Data(count: 400_000)
            try mostlyRandom.write(to: built.spark.home.appending(path: "examples/src/mostly-random.bin"))
            let tag = UUID().uuidString.prefix(8).lowercased()
            let image = "localhost:5000/preload/spark:\(tag)"
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", "localhost:5000/preload", "-t", String(tag),
                                "--base", "rootfs:\(built.base.path)"]).check()
            defer { _ = try? docker.run(["rmi", "-f", image]) }
            let result = try built.tool.run(["preload", "--host", docker.host, image]).check()
            let sent = try #require(Self.bytesSent(result))

            let archive = built.dir.appending(path: "stored.tar")
            try built.tool.run(["save", image, "-o", archive.path]).check()
            let config = try Command.run("skopeo", ["inspect", "--config", "--raw", "oci-archive:\(archive.path)"]).check()
            let rootfs = try #require((JSONSerialization.jsonObject(with: config.stdoutData) as? [String: Any])?["rootfs"] as? [String: Any])
            let diffIDs = try #require(rootfs["diff_ids"] as? [String])
            let inspect = try docker.run(["image", "inspect", "--format", "{{.Id}} {{json .RootFS.Layers}}", image]).check()
            let expected = "\(try Self.configDigest(built.tool, image, dir: built.dir)) [\(diffIDs.map { "\"\($0)\"" }.joined(separator: ","))]"
            #expect(inspect.output == expected)
            let raw = try Command.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive.path)"]).check()
            let blobSizes = try #require((JSONSerialization.jsonObject(with: raw.stdoutData) as? [String: Any])?["layers"] as? [[String: Any]])
                .compactMap { $0["size"] as? Int }

            let saved = built.dir.appending(path: "docker-save.tar")
            try docker.run(["save", "-o", saved.path, image]).check()
            let order = try Command.run("tar", ["-xOf", saved.path, "manifest.json"]).check()
            let layers = try #require((JSONSerialization.jsonObject(with: order.stdoutData) as? [[String: Any]])?.first?["Layers"] as? [String])
            let listing = try Command.run("tar", ["-tvf", saved.path]).check().stdout.split(separator: "\n")
            let tarSizes = Dictionary(listing.compactMap { line -> (String, Int)? in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 6, let size = Int(fields[2]) else { return nil }
                return (String(fields[5]), size)
            }, uniquingKeysWith: { first, _ in first })
            let sizes = try zip(layers, blobSizes).map { (tar: try #require(tarSizes[$0], "\($0) in \(listing)"), blob: $1) }
            #expect(sizes.count == diffIDs.count)
            #expect(sizes.contains { $0.tar - $0.blob > 300_000 && $0.tar <= $0.blob + $0.blob / 4 }, "the examples layer: \(sizes)")
            #expect(sizes.contains { $0.tar > 3_000_000 && $0.blob < 300_000 }, "the data layer: \(sizes)")

            let delta = result.stdout.range(of: #"\d+ of \d+ layers sent"#, options: .regularExpression)
            let sentLayers = try delta.map { try #require(Int(result.stdout[$0].prefix { $0.isNumber })) } ?? layers.count
            #expect(delta != nil || result.stdout.contains("full archive"), "\(result)")
            // The bottom layer, when sent, goes ahead in a load of its own, inflated (a second manifest and config).
            let layerBytes = zip(sizes.indices, sizes).suffix(sentLayers).reduce(0) { total, layer in
                let inflated = layer.0 == 0 || layer.1.tar <= layer.1.blob + layer.1.blob / 4 || layer.1.tar <= 1 << 20
                return total + (inflated ? layer.1.tar : layer.1.blob)
            }
            #expect((layerBytes + 512 * sentLayers...layerBytes + 512 * sentLayers + 64 * 1024).contains(sent),
                    "sent \(sent) for \(sentLayers) layers of \(layerBytes) bytes: \(result.stdout)")
        }
    }

    /// A daemon without the base gets two loads: the bottom layer ahead, registered while the rest
    /// streams in. The image has its own ID and layers, runs, and no staging image stays behind.
    @Test func aColdLoadSendsTheBaseAheadAndLeavesNoStagingImage() throws {
        guard let docker = try TestServices.docker() else { return }
        try Built.with { built in
            try built.spark.makeUnique()
            let tar = built.dir.appending(path: "unique-base.tar")
            try Command.run("sh", ["-c", "gunzip -c \"$1\" > \"$2\"", "sh", built.base.path, tar.path]).check()
            let marker = built.dir.appending(path: "base-marker")
            try Data(UUID().uuidString.utf8).write(to: marker)
            try Command.run("tar", ["--append", "-f", tar.path, "-C", built.dir.path, "--owner=0", "--group=0", "base-marker"]).check()
            let tag = UUID().uuidString.prefix(8).lowercased()
            let image = "localhost:5000/preload/spark:\(tag)"
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", "localhost:5000/preload", "-t", String(tag),
                                "--base", "rootfs:\(tar.path)"]).check()
            defer { _ = try? docker.run(["rmi", "-f", image]) }

            let result = try built.tool.run(["preload", "--host", docker.host, image, "--verbose"]).check()
            #expect(result.stdout.contains("loaded: full archive"), "\(result)")
            #expect(result.stderr.contains("ahead"), "--verbose tells of the two loads: \(result.stderr.suffix(2000))")
            let inspect = try docker.run(["image", "inspect", "--format", "{{.Id}} {{json .RepoTags}}", image]).check()
            #expect(inspect.output == "\(try Self.configDigest(built.tool, image, dir: built.dir)) [\"\(image)\"]")
            let run = try docker.run(["run", "--rm", "--network", "none", "--entrypoint", "cat", image, "/base-marker"]).check()
            #expect(run.stdout == (try String(contentsOf: marker, encoding: .utf8)), "\(run)")
            let dangling = try docker.run(["images", "-a", "-q", "--no-trunc", "--filter", "dangling=true"]).check()
            for id in dangling.stdout.split(separator: "\n") {
                let history = try docker.run(["history", "--no-trunc", "--format", "{{.CreatedBy}}", String(id)]).check()
                #expect(!history.stdout.contains("spark-image-tool preload: loaded ahead"), "staging image \(id) left behind")
            }
        }
    }

    /// With split jars, a jar added early in the name order changes an early layer, and Docker
    /// would load every layer after it; preload sends one patch layer instead. The container then
    /// sees exactly the new jars (the added one, not the removed one), and preloading again sends
    /// nothing.
    @Test func aChangedEarlyJarGroupIsLoadedAsOnePatchLayer() throws {
        guard let docker = try TestServices.docker() else { return }
        try Self.built { built, image in
            defer { _ = try? docker.run(["rmi", "-f", image]) }
            let jars = built.spark.home.appending(path: "jars")
            for index in 0..<256 {
                try SparkFixture.pseudoRandomBytes(count: 10_000, seed: "dep-\(index)").write(to: jars.appending(path: "dep-\(index).jar"))
            }
            let tag = String(image.split(separator: ":").last!)
            let build = ["build", "--spark-home", built.spark.home.path, "-r", "localhost:5000/preload", "-t", tag,
                         "--base", "rootfs:\(built.base.path)", "--split-layers-over", "100k"]
            try built.tool.run(build).check()
            try built.tool.run(["preload", "--host", docker.host, image]).check()

            try SparkFixture.pseudoRandomBytes(count: 50_000, seed: "added").write(to: jars.appending(path: "aaa-added.jar"))
            try FileManager.default.removeItem(at: jars.appending(path: "dep-7.jar"))
            try built.tool.run(build).check()
            let patched = try built.tool.run(["preload", "--host", docker.host, image]).check()
            #expect(patched.stdout.contains("one patch layer"), "\(patched)")
            // The groups the change touches (a few of about ten), not every group from the first
            // changed one on, as Docker's own delta would.
            let sent = try #require(Self.bytesSent(patched))
            #expect(sent < 256 * 10_000 * 3 / 4, "sent \(sent) bytes")

            let listing = try docker.run(["run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
                                          "ls /opt/spark/jars; md5sum /opt/spark/jars/aaa-added.jar | cut -d' ' -f1"]).check()
            let expected = try FileManager.default.contentsOfDirectory(atPath: jars.path).sorted()
            let md5 = try Command.run("md5sum", [jars.appending(path: "aaa-added.jar").path]).check().stdout.prefix(32)
            #expect(listing.stdout.split(separator: "\n").map(String.init) == expected + [String(md5)], "\(listing)")

            let again = try built.tool.run(["preload", "--host", docker.host, image]).check()
            #expect(again.stdout.contains("already loaded") && Self.bytesSent(again) == 0, "\(again)")
        }
    }

    @Test func minikubeIsReachedThroughItsDockerEnv() throws {
        guard let docker = try TestServices.dockerTLS(), let host = try TestServices.require(.dockerTLSHost),
              let certs = try TestServices.require(.dockerCertPath) else { return }
        try Self.built { built, image in
            defer { _ = try? docker.run(["rmi", "-f", image]) }
            let bin = try Self.fakeMinikube(in: built.dir, output: """
                export DOCKER_TLS_VERIFY="1"
                export DOCKER_HOST="\(host)"
                export DOCKER_CERT_PATH="\(certs)"
                export MINIKUBE_ACTIVE_DOCKERD="minikube"

                # To point your shell to minikube's docker-daemon, run:
                # eval $(minikube -p minikube docker-env)
                """)
            let result = try built.tool.run(["preload", "--minikube", image, "--verbose"], environment: ["PATH": "\(bin):/usr/bin:/bin"]).check()
            #expect(result.stderr.contains("minikube profile minikube"), "--verbose says which daemon and why: \(result)")
            let inspect = try docker.run(["image", "inspect", "--format", "{{.Id}}", image]).check()
            #expect(inspect.output == (try Self.configDigest(built.tool, image, dir: built.dir)))
        }
    }

    @Test func dockerDesktopIsFoundThroughItsContext() throws {
        guard let docker = try TestServices.docker() else { return }
        try Self.built { built, image in
            defer { _ = try? docker.run(["rmi", "-f", image]) }
            let home = built.dir.appending(path: "home")
            let id = SHA256Hex.of("desktop-linux")
            let meta = home.appending(path: ".docker/contexts/meta/\(id)")
            try FileManager.default.createDirectory(at: meta, withIntermediateDirectories: true)
            try Data(#"{"Name":"desktop-linux","Metadata":{},"Endpoints":{"docker":{"Host":"\#(docker.host)","SkipTLSVerify":false}}}"#.utf8)
                .write(to: meta.appending(path: "meta.json"))
            try built.tool.run(["preload", "--docker-desktop", image], environment: ["HOME": home.path, "DOCKER_HOST": ""]).check()
            #expect(try docker.run(["image", "inspect", image]).succeeded)
        }
    }

    @Test func remoteImagesArePulledOnceAndLoadedFromTheStoreAfterwards() throws {
        guard let docker = try TestServices.docker() else { return }
        try FaultProxy.exclusive { proxy in
            try Built.with { built in
                try built.spark.makeUnique()
                let repo = RegistryPushTests.uniqueRepository(proxy.address)
                try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "r", "--base", "rootfs:\(built.base.path)", "--push"]).check()
                let image = "\(repo)/spark:r"
                let other = Tool(store: built.dir.appending(path: "cluster-store"))
                defer { _ = try? docker.run(["rmi", "-f", image]) }
                try proxy.reset()
                try other.run(["preload", "--host", docker.host, image]).check()
                let firstStats = try proxy.stats()
                #expect((firstStats["GET /v2/*/blobs/*"] ?? 0) == 13, "the first preload downloads every blob: \(firstStats)")

                try docker.run(["rmi", "-f", image]).check()
                try proxy.reset()
                let again = try other.run(["preload", "--host", docker.host, image]).check()
                #expect(again.stdout.contains("loaded"), "\(again)")
                #expect(try proxy.stats()["GET /v2/*/blobs/*"] == nil, "a recreated cluster loads from the store, not the registry")
            }
        }
    }

    static func fakeMinikube(in dir: URL, output: String, status: Int32 = 0) throws -> String {
        let bin = dir.appending(path: "fake-bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let script = bin.appending(path: "minikube")
        try Data("#!/bin/sh\ncat <<'EOT'\n\(output)\nEOT\nexit \(status)\n".utf8).write(to: script)
        chmod(script.path, 0o755)
        return bin.path
    }
}

@Suite(.serialized)
struct PreloadBadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var environment: @Sendable (URL) throws -> [String: String]
        var expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no daemon", arguments: ["--host", "unix:///nonexistent/docker.sock"], environment: { _ in [:] },
             expected: ["no Docker daemon answers at unix:///nonexistent/docker.sock", "hint:"]),
        Case(name: "TLS certificates missing", arguments: [], environment: { dir in
            ["DOCKER_HOST": "tcp://127.0.0.1:9", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": dir.appending(path: "nocerts").path]
        }, expected: ["nocerts/ca.pem is missing", "DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem"]),
        Case(name: "minikube not on PATH", arguments: ["--minikube"], environment: { dir in ["PATH": dir.path] },
             expected: ["minikube is not on PATH"]),
        Case(name: "docker-env without DOCKER_HOST", arguments: ["--minikube", "--profile", "p"], environment: { dir in
            ["PATH": "\(try PreloadTests.fakeMinikube(in: dir, output: "export MINIKUBE_ACTIVE_DOCKERD=\"p\"")):/usr/bin:/bin"]
        }, expected: ["`minikube -p p docker-env` printed no DOCKER_HOST"]),
        Case(name: "containerd runtime", arguments: ["--minikube"], environment: { dir in
            ["PATH": "\(try PreloadTests.fakeMinikube(in: dir, output: "export MINIKUBE_CONTAINER_RUNTIME=\"containerd\"")):/usr/bin:/bin"]
        }, expected: ["containerd runtime", "minikube image load"]),
    ]

    @Test(arguments: cases)
    func refusedClearly(_ testCase: Case) throws {
        try TemporaryDirectory.with { dir in
            let tool = Tool(store: dir.appending(path: "store"))
            let result = try tool.run(["preload", "spark:missing"] + testCase.arguments, environment: try testCase.environment(dir))
            // A daemon that does not answer is unreachable (3); the others are user errors (1).
            #expect(result.status == (testCase.name == "no daemon" ? 3 : 1), "\(result)")
            for fragment in testCase.expected { #expect(result.stderr.contains(fragment), "expected '\(fragment)':\n\(result.stderr)") }
        }
    }

    /// DOCKER_CERT_PATH without DOCKER_TLS_VERIFY: the daemon's certificate is still checked
    /// against ca.pem, so a CA that did not sign it is a TLS error, not a silent connection.
    @Test func certPathWithoutTLSVerifyStillVerifies() throws {
        guard let docker = try TestServices.dockerTLS(), let certPath = docker.certPath else { return }
        try TemporaryDirectory.with { dir in
            let certs = dir.appending(path: "certs")
            try FileManager.default.createDirectory(at: certs, withIntermediateDirectories: true)
            for name in ["cert.pem", "key.pem"] {
                try FileManager.default.copyItem(atPath: "\(certPath)/\(name)", toPath: certs.appending(path: name).path)
            }
            try Command.run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=not the daemon's CA",
                                        "-keyout", dir.appending(path: "other-ca.key").path, "-out", certs.appending(path: "ca.pem").path]).check()
            // An image on a loopback port nobody serves: a tool that got past TLS fails there, not on the network.
            let result = try Tool(store: dir.appending(path: "store")).run(["preload", "127.0.0.1:9/spark:missing", "--retries", "0"],
                                                                          environment: ["DOCKER_HOST": docker.host, "DOCKER_CERT_PATH": certs.path])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("TLS to the Docker daemon"), "\(result)")
        }
    }

    @Test func anImageNowhereIsNamed() throws {
        guard let docker = try TestServices.docker(), let registry = try TestServices.require(.registry) else { return }
        try TemporaryDirectory.with { dir in
            let result = try Tool(store: dir.appending(path: "store")).run(["preload", "--host", docker.host, "\(registry)/nothing/here:1"])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("\(registry)"), "\(result)")
            #expect(result.stderr.contains("HTTP 404"), "\(result)")
        }
    }

    @Test func aDaemonErrorIsAFailureAndNothingIsHalfLoaded() throws {
        guard let docker = try TestServices.docker() else { return }
        try PreloadTests.built { built, image in
            // Corrupt the jars layer in the store: the daemon reports an errorDetail with HTTP 200.
            let archive = built.dir.appending(path: "x.tar")
            try built.tool.run(["save", image, "-o", archive.path]).check()
            let raw = try Command.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive.path)"]).check()
            let layers = (try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any])["layers"] as! [[String: Any]]
            let digest = (layers.last!["digest"] as! String).dropFirst("sha256:".count)
            let blob = built.tool.store.appending(path: "blobs/sha256/\(digest)")
            let size = try FileManager.default.attributesOfItem(atPath: blob.path)[.size] as! Int
            try SparkFixture.pseudoRandomBytes(count: size, seed: "broken").write(to: blob)

            let result = try built.tool.run(["preload", "--host", docker.host, image])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("failed to load the images"), "\(result)")
            #expect(!(try docker.run(["image", "inspect", image]).succeeded), "the tag must not exist after a failed load")
        }
    }
}
