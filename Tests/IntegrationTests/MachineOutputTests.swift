import Foundation
import Testing

/// The documents `--json` prints (docs/json.md), decoded here with the keys the docs promise.
enum JSONDocs {
    struct Blob: Decodable { var digest: String; var size: Int64; var mediaType: String }
    struct PlatformImage: Decodable {
        var platform: String
        var manifestDigest: String
        var configDigest: String
        var size: Int64
        var layers: [Blob]
    }
    struct Image: Decodable {
        var reference: String
        var digest: String
        var mediaType: String
        var size: Int64
        var manifestDigest: String?
        var indexDigest: String?
        var platforms: [PlatformImage]
        var layersBuilt: Int?
        var layersCached: Int?
    }
    struct PushedBlob: Decodable { var digest: String; var size: Int64; var outcome: String }
    struct Push: Decodable {
        var references: [String]
        var digest: String
        var uploaded: Int
        var mounted: Int
        var skipped: Int
        var uploadedBytes: Int64
        var blobs: [PushedBlob]
    }
    struct PreloadedImage: Decodable {
        var reference: String
        var imageID: String
        var outcome: String
        var layersSent: Int?
        var layersTotal: Int?
    }
    struct Preload: Decodable { var daemon: String; var bytesSent: Int64; var images: [PreloadedImage] }
    struct Build: Decodable { var images: [Image]; var pushes: [Push]?; var preload: Preload? }
    struct PushCommand: Decodable { var pushes: [Push]; var notFound: [String] }
    struct Images: Decodable { var images: [Image] }
    struct Verify: Decodable { var consistent: Bool; var problems: [String] }
    struct IndexEntry: Decodable { var platform: String; var digest: String; var size: Int64; var mediaType: String }
    struct Index: Decodable { var reference: String; var digest: String; var mediaType: String; var size: Int64; var manifests: [IndexEntry] }
    struct Finding: Decodable { var problem: String; var fix: String }
    struct CheckedImage: Decodable { var reference: String; var ok: Bool; var findings: [Finding] }
    struct Check: Decodable { var images: [CheckedImage] }
    struct HistoryLayer: Decodable { var digest: String; var size: Int64; var mediaType: String; var createdBy: String }
    struct Inspect: Decodable {
        var reference: String
        var manifestDigest: String
        var mediaType: String
        var configDigest: String
        var platform: String
        var size: Int64
        var user: String?
        var workingDir: String?
        var entrypoint: [String]?
        var cmd: [String]?
        var env: [String]
        var labels: [String: String]
        var annotations: [String: String]
        var layers: [HistoryLayer]
    }
    struct HistoryEntry: Decodable { var createdBy: String; var created: String?; var layer: Blob? }
    struct History: Decodable { var reference: String; var history: [HistoryEntry] }
    struct Rebase: Decodable { var image: Image; var base: String; var pushes: [Push]? }

    /// The whole of stdout must be the one document.
    static func decode<T: Decodable>(_ type: T.Type, _ result: CommandResult) throws -> T {
        try JSONDecoder().decode(type, from: result.stdoutData)
    }
}

/// skopeo's view of a pushed image.
func skopeoInspect(_ image: String, raw: Bool = false) throws -> [String: Any] {
    let result = try Command.run("skopeo", ["inspect"] + (raw ? ["--raw"] : []) + ["--tls-verify=false", "docker://\(image)"]).check()
    return try JSONSerialization.jsonObject(with: result.stdoutData) as! [String: Any]
}

@Suite(.serialized)
struct MachineOutputTests {
    @Test func buildPushJSONAndResultFilesMatchSkopeo() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let repo = RegistryPushTests.uniqueRepository(registry)
            let files = ["digest", "names", "metadata.json"].map { built.dir.appending(path: $0).path }
            let build = try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "1",
                                            "--base", "rootfs:\(built.base.path)", "--push", "--json",
                                            "--digest-file", files[0], "--image-name-with-digest-file", files[1], "--metadata-file", files[2]]).check()
            let report = try JSONDocs.decode(JSONDocs.Build.self, build)
            let inspect = try skopeoInspect("\(repo)/spark:1")
            let digest = try #require(inspect["Digest"] as? String)

            let image = try #require(report.images.first)
            #expect(report.images.count == 1)
            #expect(image.reference == "\(repo)/spark:1")
            #expect(image.digest == digest && image.manifestDigest == digest && image.indexDigest == nil)
            #expect(image.platforms.map(\.layers).first?.map(\.digest) == inspect["Layers"] as? [String])
            #expect(image.layersBuilt == 11 && image.layersCached == 0, "\(image)")
            let push = try #require(report.pushes?.first)
            #expect(push.digest == digest)
            #expect(push.uploaded == 13 && push.blobs.count == 13 && push.blobs.allSatisfy { $0.outcome == "uploaded" }, "\(push)")
            #expect(push.uploadedBytes == push.blobs.reduce(0) { $0 + $1.size })
            #expect(build.stderr.contains("Pushed \(repo)/spark:1"), "progress goes to stderr with --json")

            #expect(try String(contentsOfFile: files[0], encoding: .utf8) == digest, "kaniko's digest file: the digest, no newline")
            #expect(try String(contentsOfFile: files[1], encoding: .utf8) == "\(repo)/spark@\(digest)\n")
            let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files[2]))) as! [String: Any]
            #expect(metadata["containerimage.digest"] as? String == digest)
            #expect(metadata["image.name"] as? String == "\(repo)/spark:1")
            let descriptor = try #require(metadata["containerimage.descriptor"] as? [String: Any])
            let raw = try Command.run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(repo)/spark:1"]).check()
            #expect(descriptor["size"] as? Int == raw.stdoutData.count)
            #expect(descriptor["mediaType"] as? String == "application/vnd.oci.image.manifest.v1+json")

            let again = try JSONDocs.decode(JSONDocs.PushCommand.self, try built.tool.run(["push", "\(repo)/spark:1", "--json"]).check())
            #expect(again.pushes.first?.skipped == 13 && again.pushes.first?.uploaded == 0, "\(again)")

            let elsewhere = Tool(store: built.dir.appending(path: "other-store"))
            let pulled = try JSONDocs.decode(JSONDocs.Image.self, try elsewhere.run(["pull", "\(repo)/spark:1", "--json"]).check())
            #expect(pulled.digest == digest && pulled.platforms.first?.layers.map(\.digest) == inspect["Layers"] as? [String], "\(pulled)")
        }
    }

    /// spark and spark-py: one line per image, and buildx's metadata keyed by reference.
    @Test func resultFilesForSeveralImages() throws {
        try Built.with { built in
            let files = ["digest", "names", "metadata.json"].map { built.dir.appending(path: $0).path }
            try built.tool.build(home: built.spark.home, base: built.base, tag: "m", extra: [
                "--python", "--digest-file", files[0], "--image-name-with-digest-file", files[1], "--metadata-file", files[2]])
            let images = try JSONDocs.decode(JSONDocs.Images.self, try built.tool.run(["images", "--json"]).check()).images
            #expect(images.map(\.reference) == ["localhost:5000/spark/spark-py:m", "localhost:5000/spark/spark:m"])
            let digests = Dictionary(uniqueKeysWithValues: images.map { ($0.reference, $0.digest) })
            let spark = try #require(digests["localhost:5000/spark/spark:m"]), py = try #require(digests["localhost:5000/spark/spark-py:m"])
            #expect(try String(contentsOfFile: files[0], encoding: .utf8) == "\(spark)\n\(py)")
            #expect(try String(contentsOfFile: files[1], encoding: .utf8) == "localhost:5000/spark/spark@\(spark)\nlocalhost:5000/spark/spark-py@\(py)\n")
            let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files[2]))) as! [String: [String: Any]]
            #expect(metadata["localhost:5000/spark/spark-py:m"]?["containerimage.digest"] as? String == py)
            #expect(metadata["localhost:5000/spark/spark:m"]?["image.name"] as? String == "localhost:5000/spark/spark:m")
        }
    }

    /// Builds spark for one architecture and pushes it by digest; returns the digest file's content.
    static func pushByDigest(_ built: Built, repo: String, arch: String) throws -> String {
        let digestFile = built.dir.appending(path: "digest-\(arch)").path
        let build = try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", arch,
                                        "--base", "rootfs:\(built.base.path)", "--platform", "linux/\(arch)",
                                        "--push", "--push-by-digest", "--json", "--digest-file", digestFile]).check()
        let report = try JSONDocs.decode(JSONDocs.Build.self, build)
        let digest = try String(contentsOfFile: digestFile, encoding: .utf8)
        #expect(report.images.first?.digest == digest)
        #expect(report.pushes?.first?.references == ["\(repo)/spark@\(digest)"], "\(build)")
        return digest
    }

    /// The CI pattern: each platform built and pushed by digest (no tag), then merged into one index.
    @Test func pushByDigestThenIndexCreateMergesPlatforms() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let repo = RegistryPushTests.uniqueRepository(registry)
            var sources: [String: String] = [:]
            for arch in ["amd64", "arm64"] {
                sources[arch] = try Self.pushByDigest(built, repo: repo, arch: arch)
            }
            for tag in ["amd64", "arm64"] {
                let tagged = try Command.run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(repo)/spark:\(tag)"])
                #expect(!tagged.succeeded, "pushed by digest, under no tag: \(tagged)")
            }
            for digest in sources.values {
                try Command.run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(repo)/spark@\(digest)"]).check()
            }

            let create = try built.tool.run(["index", "create", "\(repo)/spark:multi", "--json",
                                             "--from", "\(repo)/spark@\(sources["amd64"]!)", "--from", "\(repo)/spark@\(sources["arm64"]!)"]).check()
            let report = try JSONDocs.decode(JSONDocs.Index.self, create)
            let raw = try Command.run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(repo)/spark:multi"]).check()
            let index = try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any]
            #expect(index["mediaType"] as? String == "application/vnd.oci.image.index.v1+json")
            let manifests = index["manifests"] as! [[String: Any]]
            #expect(manifests.map { $0["digest"] as? String } == [sources["amd64"], sources["arm64"]])
            #expect(manifests.map { ($0["platform"] as? [String: Any])?["architecture"] as? String } == ["amd64", "arm64"])
            let sha = try Command.run("sha256sum", stdin: raw.stdoutData).check()
            #expect(report.digest == "sha256:" + sha.stdout.prefix(64), "the digest of what the registry serves")
            #expect(report.manifests.map(\.platform) == ["linux/amd64", "linux/arm64"])
            #expect(report.size == raw.stdoutData.count)
            let arm = try Command.run("skopeo", ["inspect", "--tls-verify=false", "--override-arch", "arm64", "docker://\(repo)/spark:multi"]).check()
            #expect(arm.stdout.contains("\"Architecture\": \"arm64\""), "\(arm)")
        }
    }

    /// Platforms pushed to other repositories of the registry are mounted into the index's.
    @Test func indexCreateMountsSourcesFromOtherRepositories() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let repo = RegistryPushTests.uniqueRepository(registry)
            let amd = try Self.pushByDigest(built, repo: "\(repo)/amd", arch: "amd64")
            let arm = try Self.pushByDigest(built, repo: "\(repo)/arm", arch: "arm64")
            try built.tool.run(["index", "create", "\(repo)/all/spark:2", "--from", "\(repo)/amd/spark@\(amd)",
                                "--from", "\(repo)/arm/spark@\(arm)"]).check()
            let copy = built.dir.appending(path: "copy")
            for arch in ["amd64", "arm64"] {
                try Command.run("skopeo", ["copy", "--src-tls-verify=false", "--override-arch", arch,
                                           "docker://\(repo)/all/spark:2", "oci:\(copy.path):\(arch)"]).check()
            }
        }
    }

    @Test func indexCreateRefusesASourceWithoutDigest() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        let result = try Binary.run(["index", "create", "\(registry)/x/spark:multi", "--from", "\(registry)/x/spark:amd64"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("names no digest") && result.stderr.contains("hint:"), "\(result)")
    }

    @Test func imagesAndVerifyJSON() throws {
        try Built.with { built in
            try built.tool.build(home: built.spark.home, base: built.base, tag: "j")
            let images = try JSONDocs.decode(JSONDocs.Images.self, try built.tool.run(["images", "--json"]).check())
            let image = try #require(images.images.first { $0.reference == "localhost:5000/spark/spark:j" })
            #expect(image.digest == (try built.tool.manifestDigest("localhost:5000/spark/spark:j")))
            #expect(image.platforms.count == 1 && image.platforms[0].layers.count == 12)
            #expect(image.platforms[0].size == image.platforms[0].layers.reduce(0) { $0 + $1.size } + (try configSize(built, image)))

            let good = try JSONDocs.decode(JSONDocs.Verify.self, try built.tool.run(["verify", "--json"]).check())
            #expect(good.consistent && good.problems.isEmpty)
            try corruptTopLayer(built, image)
            let bad = try built.tool.run(["verify", "--json"])
            #expect(bad.status == 4, "a verification failure: \(bad)")
            let report = try JSONDocs.decode(JSONDocs.Verify.self, bad)
            #expect(!report.consistent && report.problems.count == 1, "\(report)")
        }
    }

    /// Each documented exit status, through the binary.
    @Test func exitStatuses() throws {
        try Built.with { built in
            #expect(try built.tool.run(["images"]).status == 0)
            let missing = try built.tool.run(["push", "localhost:5000/never/built:1"])
            #expect(missing.status == 1, "a user error: \(missing)")
            let usage = try built.tool.run(["build", "--no-such-option"])
            #expect(usage.status == 2, "a usage error: \(usage)")
            #expect(usage.stderr.contains("--no-such-option"), "\(usage)")
            let refused = try built.tool.run(["pull", "127.0.0.1:9/nothing/here:1", "--retries", "0"])
            #expect(refused.status == 3, "nothing listens on port 9 (discard): \(refused)")
            try built.tool.build(home: built.spark.home, base: built.base, tag: "x")
            let images = try JSONDocs.decode(JSONDocs.Images.self, try built.tool.run(["images", "--json"]).check())
            try corruptTopLayer(built, images.images[0])
            let verify = try built.tool.run(["verify"])
            #expect(verify.status == 4, "\(verify)")
            let help = try Binary.run(["--help"]).check()
            let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(words.contains("0 ok, 1 user error, 2 usage, 3 registry or daemon unreachable, 4 verification failure"), "\(help)")
        }
    }

    /// A base that cannot be fetched says why, with the registry's advice, not the advice for a
    /// damaged archive file, and keeps its exit status.
    @Test func baseFailuresKeepTheirOwnHintAndStatus() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let cases = [("127.0.0.1:9/spark/base:1", Int32(3), "is the registry at 127.0.0.1:9 running?"),
                         ("\(registry)/nothing/here:1", Int32(1), "check the image name and tag")]
            for (base, status, hint) in cases {
                let result = try built.tool.run(["build", "--spark-home", built.spark.home.path, "-t", "h", "--base", base, "--retries", "0"])
                #expect(result.status == status, "\(result)")
                #expect(result.stderr.contains(hint), "\(result)")
                #expect(!result.stderr.contains("uncorrupted"), "not an archive problem: \(result)")
            }
        }
    }

    /// check, inspect, history and rebase: one document each, compared with skopeo's reading of
    /// the saved image.
    @Test func checkInspectHistoryAndRebaseJSON() throws {
        try Built.with { built in
            let image = "localhost:5000/spark/spark:1"
            try built.tool.build(home: built.spark.home, base: built.base, tag: "1")
            let check = try built.tool.run(["check", image, "--json"])
            #expect(check.status == 1, "the busybox base has no java: \(check)")
            let checked = try JSONDocs.decode(JSONDocs.Check.self, check)
            #expect(checked.images.map(\.reference) == [image] && checked.images.allSatisfy { !$0.ok }, "\(checked)")
            #expect(checked.images.first?.findings.contains { $0.problem.contains("no java on PATH") && !$0.fix.isEmpty } == true, "\(checked)")

            let archive = built.dir.appending(path: "image.tar")
            try built.tool.run(["save", image, "--format", "oci-archive", "-o", archive.path]).check()
            let raw = try Command.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive.path)"]).check()
            let manifest = try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any]
            let config = try JSONSerialization.jsonObject(with: try Command.run("skopeo", ["inspect", "--config", "oci-archive:\(archive.path)"]).check().stdoutData) as! [String: Any]
            let run = config["config"] as? [String: Any] ?? [:]
            let layers = (manifest["layers"] as! [[String: Any]]).map { $0["digest"] as! String }
            let history = (config["history"] as! [[String: Any]]).map { $0["created_by"] as? String ?? "" }

            let inspect = try JSONDocs.decode(JSONDocs.Inspect.self, try built.tool.run(["inspect", image, "--json"]).check())
            let sha = try Command.run("sha256sum", stdin: raw.stdoutData).check()
            #expect(inspect.manifestDigest == "sha256:" + sha.stdout.prefix(64))
            #expect(inspect.configDigest == (manifest["config"] as? [String: Any])?["digest"] as? String)
            #expect(inspect.layers.map(\.digest) == layers && inspect.layers.allSatisfy { !$0.createdBy.isEmpty }, "\(inspect)")
            #expect(inspect.user == run["User"] as? String && inspect.env == run["Env"] as? [String] && inspect.entrypoint == run["Entrypoint"] as? [String])
            #expect(inspect.annotations == manifest["annotations"] as? [String: String], "\(inspect)")
            #expect(inspect.platform == "\(config["os"] as! String)/\(config["architecture"] as! String)")

            let stepwise = try JSONDocs.decode(JSONDocs.History.self, try built.tool.run(["history", image, "--json"]).check())
            #expect(stepwise.history.map(\.createdBy) == history, "oldest first, as the config lists them")
            #expect(stepwise.history.compactMap(\.layer?.digest) == layers)

            let patched = built.dir.appending(path: "patched.tar")
            try RebaseTests.addPackage(to: built.base, at: patched, staging: built.dir.appending(path: "patched"))
            let rebase = try built.tool.run(["rebase", image, "--base", "rootfs:\(patched.path)", "--old-base", "rootfs:\(built.base.path)",
                                             "--tag", "2", "--json"]).check()
            let rebased = try JSONDocs.decode(JSONDocs.Rebase.self, rebase)
            let after = try JSONDocs.decode(JSONDocs.Inspect.self, try built.tool.run(["inspect", "localhost:5000/spark/spark:2", "--json"]).check())
            #expect(rebased.image.reference == "localhost:5000/spark/spark:2" && rebased.image.digest == after.manifestDigest, "\(rebased)")
            #expect(rebased.base == "rootfs:\(patched.path)" && rebased.pushes == nil)
            #expect(Array(rebased.image.platforms[0].layers.map(\.digest).dropFirst()) == Array(layers.dropFirst()), "the Spark layers stay")
        }
    }

    @Test func preloadJSONCountsTheBytesSent() throws {
        guard let docker = try TestServices.docker() else { return }
        try PreloadTests.built { built, image in
            defer { _ = try? docker.run(["rmi", "-f", image]) }
            let first = try JSONDocs.decode(JSONDocs.Preload.self, try built.tool.run(["preload", "--json", "--host", docker.host, image]).check())
            #expect(!first.daemon.isEmpty, "\(first)")
            #expect(first.bytesSent > 0 && ["full", "delta"].contains(first.images.first?.outcome ?? ""), "\(first)")
            let inspect = try docker.run(["image", "inspect", "--format", "{{.Id}}", image]).check()
            #expect(first.images.first?.imageID == inspect.output)
            let again = try JSONDocs.decode(JSONDocs.Preload.self, try built.tool.run(["preload", "--json", "--host", docker.host, image]).check())
            #expect(again.bytesSent == 0 && again.images.first?.outcome == "skipped", "\(again)")
        }
    }

    private func configSize(_ built: Built, _ image: JSONDocs.Image) throws -> Int64 {
        let path = built.tool.store.appending(path: "blobs/sha256/\(image.platforms[0].configDigest.dropFirst(7))").path
        return Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
    }

    /// Overwrites the first byte of the image's top layer in the store.
    private func corruptTopLayer(_ built: Built, _ image: JSONDocs.Image) throws {
        let layer = try #require(image.platforms.first?.layers.last)
        let path = built.tool.store.appending(path: "blobs/sha256/\(layer.digest.dropFirst(7))").path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        let first = try handle.read(upToCount: 1) ?? Data([0])
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data([first[0] ^ 0xff]))
    }
}
