import Foundation
import Testing

/// Push and pull against the real registry, checked with skopeo and docker.
@Suite(.serialized)
struct RegistryPushTests {
    /// A unique repository prefix per test, so tests sharing the registry never see each other.
    static func uniqueRepository(_ registry: String) -> String {
        "\(registry)/t\(UUID().uuidString.prefix(8).lowercased())"
    }

    @Test func pushedImageIsReadBySkopeoAndRunByDocker() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let repo = Self.uniqueRepository(registry)
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "1.0", "--base", "rootfs:\(built.base.path)"]).check()
            let digest = try built.tool.manifestDigest("\(repo)/spark:1.0")
            let push = try built.tool.run(["push", "\(repo)/spark:1.0", "--tag", "latest"]).check()
            #expect(push.stdout.contains("13 blobs uploaded"), "12 layers and the config: \(push)")

            for tag in ["1.0", "latest"] {
                let inspect = try Command.run("skopeo", ["inspect", "--tls-verify=false", "docker://\(repo)/spark:\(tag)"]).check()
                let json = try JSONSerialization.jsonObject(with: inspect.stdoutData) as! [String: Any]
                #expect(json["Digest"] as? String == digest)
            }
            let copy = built.dir.appending(path: "copy")
            try Command.run("skopeo", ["copy", "--src-tls-verify=false", "docker://\(repo)/spark:1.0", "oci:\(copy.path):x"]).check()

            guard let docker = try TestServices.docker() else { return }
            defer { _ = try? docker.run(["rmi", "-f", "\(repo)/spark:1.0"]) }
            try docker.run(["pull", "\(repo)/spark:1.0"]).check()
            let run = try docker.run(["run", "--rm", "--network", "none", "\(repo)/spark:1.0", "sh", "-c", "id -u; echo $SPARK_HOME"]).check()
            #expect(run.stdout.hasSuffix("185\n/opt/spark\n"), "\(run)")
        }
    }

    /// build --push uploads layers on several threads while it builds; they share one probe of
    /// the registry (https, then plain http on loopback) instead of each probing it.
    @Test func concurrentUploadsProbeTheRegistryOnce() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let repo = Self.uniqueRepository(registry)
            let build = try built.tool.run(["build", "-v", "--spark-home", built.spark.home.path, "-r", repo, "-t", "1",
                                            "--base", "rootfs:\(built.base.path)", "--push"]).check()
            let probes = build.stderr.split(separator: "\n").filter { $0.hasPrefix("> GET ") && $0.hasSuffix("/v2/") }
            #expect(probes.count == 2, "\(probes)")
            #expect(build.stdout.contains("13 blobs uploaded"), "12 layers and the config, uploaded while building or after: \(build.stdout)")
        }
    }

    @Test func rePushUploadsNothingAndBindingsMountTheSparkLayers() throws {
        try FaultProxy.exclusive { proxy in try Built.with { built in
            let repo = Self.uniqueRepository(proxy.address)
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "1", "--python",
                                "--base", "rootfs:\(built.base.path)"]).check()
            try proxy.reset()
            try built.tool.run(["push", "\(repo)/spark:1"]).check()
            let first = try proxy.stats()
            #expect(first["PUT /v2/*/blobs/uploads/*"] == 13, "12 layers and the config: \(first)")

            try proxy.reset()
            let again = try built.tool.run(["push", "\(repo)/spark:1"]).check()
            #expect(again.stdout.contains("0 blobs uploaded"), "\(again)")
            let second = try proxy.stats()
            #expect(second["PUT /v2/*/blobs/uploads/*"] == nil, "\(second)")
            #expect(second["POST /v2/*/blobs/uploads/"] == nil, "\(second)")

            try proxy.reset()
            let py = try built.tool.run(["push", "\(repo)/spark-py:1"]).check()
            #expect(py.stdout.contains("3 blobs uploaded"), "config + 2 python layers: \(py)")
            #expect(py.stdout.contains("12 mounted"), "the base and the 11 Spark layers come from spark: \(py)")
            let third = try proxy.stats()
            #expect(third["PUT /v2/*/blobs/uploads/*"] == 3, "\(third)")
            #expect(third["POST /v2/*/blobs/uploads/?mount"] == 12, "\(third)")
        } }
    }

    @Test func compatiblePushSkipsImagesThatWereNotBuilt() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let repo = Self.uniqueRepository(registry)
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "2", "--base", "rootfs:\(built.base.path)"]).check()
            let push = try Binary.run(["--store", built.tool.store.path, "-r", repo, "-t", "2", "push"]).check()
            #expect(push.stdout.contains("pushed \(repo)/spark:2"), "\(push)")
            #expect(push.stdout.contains("\(repo)/spark-py:2 image not found. Skipping push for this image."))
            let usage = try Binary.run(["--store", built.tool.store.path, "-t", "2", "push"])
            #expect(usage.status == 1, "push without -r prints the usage and fails, as docker-image-tool.sh does")
            #expect(usage.stdout.contains("USAGE"), "\(usage)")
        }
    }

    @Test func multiPlatformBuildPushesOneIndexSharingTheSparkLayers() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let repo = Self.uniqueRepository(registry)
            try built.tool.run(["build", "-X", "--spark-home", built.spark.home.path, "-r", repo, "-t", "x",
                                "--base", "rootfs:\(built.base.path)"]).check()
            let raw = try Command.run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(repo)/spark:x"]).check()
            let index = try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any]
            #expect(index["mediaType"] as? String == "application/vnd.oci.image.index.v1+json")
            let manifests = index["manifests"] as! [[String: Any]]
            let platforms = manifests.map { ($0["platform"] as! [String: String])["architecture"]! }
            #expect(platforms == ["amd64", "arm64"])
            var layerSets: [[String]] = []
            for arch in platforms {
                let inspect = try Command.run("skopeo", ["inspect", "--tls-verify=false", "--override-arch", arch, "docker://\(repo)/spark:x"]).check()
                let json = try JSONSerialization.jsonObject(with: inspect.stdoutData) as! [String: Any]
                #expect(json["Architecture"] as? String == arch)
                layerSets.append(Array((json["Layers"] as! [String]).dropFirst()))
            }
            #expect(layerSets[0] == layerSets[1], "the Spark layers are the same blobs on every platform")
            let copy = built.dir.appending(path: "arm64")
            try Command.run("skopeo", ["copy", "--src-tls-verify=false", "--override-arch", "arm64", "docker://\(repo)/spark:x", "oci:\(copy.path):arm"]).check()
        }
    }

    @Test func aCorruptBaseBlobIsRefused() throws {
        guard let registry = try TestServices.require(.registry), let work = try TestServices.require(.work) else { return }
        try Built.with { built in
            let repo = Self.uniqueRepository(registry)
            // A base whose top layer no other test has (the registry stores each blob once).
            let unique = built.dir.appending(path: "unique")
            try FileManager.default.createDirectory(at: unique, withIntermediateDirectories: true)
            try Data(repo.utf8).write(to: unique.appending(path: "RELEASE"))
            try Data("FROM rootfs:\(built.base.path)\nCOPY RELEASE /etc/unique\n".utf8).write(to: built.dir.appending(path: "Dockerfile.base"))
            try Command.run("mkdir", ["-p", unique.appending(path: "jars").path]).check()
            try Data().write(to: unique.appending(path: "jars/spark-core_2.13-4.3.0.jar"))
            try built.tool.run(["build", "--spark-home", unique.path, "-f", built.dir.appending(path: "Dockerfile.base").path, "-r", repo, "-t", "1"]).check()
            try built.tool.run(["push", "\(repo)/spark:1"]).check()
            let inspect = try Command.run("skopeo", ["inspect", "--tls-verify=false", "docker://\(repo)/spark:1"]).check()
            let layer = ((try JSONSerialization.jsonObject(with: inspect.stdoutData) as! [String: Any])["Layers"] as! [String]).last!
            // Overwrite the layer's data in the registry's own storage with as many other bytes.
            let hex = String(layer.dropFirst("sha256:".count))
            let found = try Command.run("find", [work, "-path", "*/blobs/sha256/\(hex.prefix(2))/\(hex)/data"]).check()
            let data = try #require(found.stdout.split(separator: "\n").first.map(String.init))
            let size = try FileManager.default.attributesOfItem(atPath: data)[.size] as! Int
            try SparkFixture.pseudoRandomBytes(count: size, seed: "corrupt").write(to: URL(fileURLWithPath: data))
            try built.tool.run(["rmi", "\(repo)/spark:1"]).check()
            try built.tool.run(["gc"]).check()

            let result = try built.tool.run(["build", "--spark-home", built.spark.home.path, "-t", "c", "--base", "\(repo)/spark:1"])
            #expect(result.status == 4, "content that does not match its digest: \(result)")
            #expect(result.stderr.contains("digest mismatch"), "\(result)")
            #expect(result.stderr.contains(layer), "\(result)")
            #expect(try built.tool.expectConsistentStore().succeeded)
        }
    }

    @Test func baseImagesComeFromTheRegistryAndItsLayersAreMounted() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let repo = Self.uniqueRepository(registry)
            let layout = built.dir.appending(path: "tiny")
            try TinyBase.makeOCIImage(layout: layout, tag: "base")
            try Command.run("skopeo", ["copy", "--dest-tls-verify=false", "oci:\(layout.path):base", "docker://\(repo)/java:17"]).check()
            let build = try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "b", "--base", "\(repo)/java:17", "--push"]).check()
            #expect(build.stdout.contains("1 mounted"), "the base layer is mounted from \(repo)/java: \(build)")
            let push = try built.tool.run(["push", "\(repo)/spark:b", "--tag", "again"]).check()
            #expect(push.stdout.contains("0 blobs uploaded"), "\(push)")
            let pulled = try built.tool.run(["images"]).check()
            #expect(pulled.stdout.contains("\(repo)/java:17"), "the pulled base is in the store: \(pulled)")
        }
    }
}

/// Docker Hub names are served by a mirror when one is given: here the test registry plays the
/// mirror, so nothing leaves the machine.
struct RegistryMirrorTests {
    @Test func dockerHubImagesComeFromTheMirror() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try TemporaryDirectory.with { dir in
            let layout = dir.appending(path: "tiny")
            try TinyBase.makeOCIImage(layout: layout, tag: "base")
            let name = "mirrortest\(UUID().uuidString.prefix(8).lowercased())"
            try Command.run("skopeo", ["copy", "--dest-tls-verify=false", "oci:\(layout.path):base", "docker://\(registry)/library/\(name):17"]).check()
            let tool = Tool(store: dir.appending(path: "store"))
            let pull = try tool.run(["pull", "\(name):17", "--registry-mirror", "http://\(registry)"]).check()
            #expect(pull.stdout.contains("pulled \(name):17 sha256:"), "\(pull)")
            #expect(try tool.run(["images"]).check().stdout.contains("\(name):17"))
        }
    }
}

/// zstd layers (OCI +zstd) with split jars, validated by skopeo. Docker 20.10 cannot read zstd
/// layers, so docker is not asked to (see the README).
struct ZstdPushTests {
    @Test func zstdImagesAreCopiedBySkopeo() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let repo = RegistryPushTests.uniqueRepository(registry)
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "z", "--base", "rootfs:\(built.base.path)",
                                "--compression", "zstd", "--split-layers-over", "100k", "--push"]).check()
            let raw = try Command.run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(repo)/spark:z"]).check()
            let layers = (try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any])["layers"] as! [[String: Any]]
            #expect(layers.count > 12, "the jars are split")
            #expect(Set(layers.map { $0["mediaType"] as! String }) == ["application/vnd.oci.image.layer.v1.tar+zstd"])
            let copy = built.dir.appending(path: "copy")
            try Command.run("skopeo", ["copy", "--src-tls-verify=false", "docker://\(repo)/spark:z", "oci:\(copy.path):z"]).check()
            // zstd and sha256sum (not ours) restore each layer's tar from the concatenated frames,
            // stored and compressed, and it hashes to the config's diff_id.
            let configHex = ((try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any])["config"] as! [String: Any])["digest"] as! String
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: copy.appending(path: "blobs/sha256/\(configHex.dropFirst(7))"))) as! [String: Any]
            let diffIDs = (config["rootfs"] as! [String: Any])["diff_ids"] as! [String]
            #expect(diffIDs.count == layers.count)
            for (layer, diffID) in zip(layers, diffIDs) {
                let blob = copy.appending(path: "blobs/sha256/\((layer["digest"] as! String).dropFirst(7))").path
                let hash = try Command.run("/bin/sh", ["-c", "zstd -q -d -c '\(blob)' | sha256sum"]).check()
                #expect("sha256:" + hash.stdout.prefix(64) == diffID)
            }
        }
    }
}
