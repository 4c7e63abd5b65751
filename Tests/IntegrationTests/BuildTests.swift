import Foundation
import Testing

/// Builds from a synthetic release on the tiny busybox base and checks the result with tools
/// nobody here wrote: umoci, skopeo and docker.
@Suite(.serialized)
struct BuildTests {
    @Test func unpackedImageHasTheDistributionsFiles() throws {
        try Built.with { built in
            let (dir, spark, base, tool) = (built.dir, built.spark, built.base, built.tool)
            try tool.build(home: spark.home, base: base)
            let archive = dir.appending(path: "spark-oci.tar")
            try tool.run(["save", "localhost:5000/spark/spark:4.3.0", "--format", "oci-archive", "-o", archive.path]).check()

            let layout = dir.appending(path: "layout")
            try FileManager.default.createDirectory(at: layout, withIntermediateDirectories: true)
            try Command.run("tar", ["-xf", archive.path, "-C", layout.path]).check()
            let bundle = dir.appending(path: "bundle")
            try Command.run("umoci", ["unpack", "--image", "\(layout.path):localhost:5000/spark/spark:4.3.0", bundle.path]).check()
            let rootfs = bundle.appending(path: "rootfs")

            for (source, target) in SparkFixture.copies {
                try expectSameTree(spark.home.appending(path: source), rootfs.appending(path: target))
            }
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs.appending(path: "opt/spark/bin/spark-shell").path) == "spark-submit")
            let original = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "opt/spark/sbin/start-master.sh").path)
            let link = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "opt/spark/sbin/start-master-link.sh").path)
            #expect(original[.systemFileNumber] as? Int == link[.systemFileNumber] as? Int, "hard links stay hard links")
            #expect(try mode(rootfs.appending(path: "opt/entrypoint.sh")) == 0o755)
            #expect(try mode(rootfs.appending(path: "opt/decom.sh")) == 0o755)
            #expect(try mode(rootfs.appending(path: "opt/spark/work-dir")) == 0o775)
            #expect(try mode(rootfs.appending(path: "tmp")) == 0o1777, "the base's /tmp must keep its mode")
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "opt/spark/RELEASE").path)
                    == FileManager.default.contents(atPath: spark.home.appending(path: "RELEASE").path))

            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: bundle.appending(path: "config.json"))) as! [String: Any]
            let process = config["process"] as! [String: Any]
            #expect((process["user"] as! [String: Any])["uid"] as? Int == 185)
            #expect(process["cwd"] as? String == "/opt/spark/work-dir")
            #expect(process["args"] as? [String] == ["/opt/entrypoint.sh"])
            #expect((process["env"] as? [String])?.contains("SPARK_HOME=/opt/spark") == true)
        }
    }

    @Test func skopeoReadsTheArchive() throws {
        try Built.with { built in
            let (dir, spark, base, tool) = (built.dir, built.spark, built.base, built.tool)
            try tool.build(home: spark.home, base: base, extra: ["--python"])
            let digest = try tool.manifestDigest("localhost:5000/spark/spark-py:4.3.0")
            let archive = dir.appending(path: "py.tar")
            try tool.run(["save", "localhost:5000/spark/spark-py:4.3.0", "-o", archive.path]).check()

            let inspect = try Command.run("skopeo", ["inspect", "oci-archive:\(archive.path)"]).check()
            let json = try JSONSerialization.jsonObject(with: inspect.stdoutData) as! [String: Any]
            #expect(json["Digest"] as? String == digest)
            #expect(json["Architecture"] as? String == TinyBase.goArch, "the build platform is the machine's")
            #expect((json["Env"] as? [String])?.contains("SPARK_HOME=/opt/spark") == true)
            // base + 11 COPY layers of the JVM image + 2 of the python binding
            #expect((json["Layers"] as? [String])?.count == 14)
        }
    }

    /// The manifest says which Spark it holds and which base it was built on (for rebasing);
    /// `created` only with SOURCE_DATE_EPOCH, so the default build stays reproducible.
    @Test func manifestsCarryVersionAndBaseAnnotations() throws {
        try Built.with { built in
            let (dir, spark, base, tool) = (built.dir, built.spark, built.base, built.tool)
            try tool.run(["build", "--spark-home", spark.home.path, "-r", "localhost:5000/spark", "-t", "4.3.0",
                          "--base", "rootfs:\(base.path)", "--python"], environment: ["SOURCE_DATE_EPOCH": "1700000000"]).check()
            let sparkDigest = try tool.manifestDigest("localhost:5000/spark/spark:4.3.0")
            func annotations(_ image: String) throws -> [String: String] {
                let archive = dir.appending(path: "\(image.count).tar")
                try tool.run(["save", image, "-o", archive.path]).check()
                let raw = try Command.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive.path)"]).check()
                let manifest = try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any]
                return manifest["annotations"] as? [String: String] ?? [:]
            }
            let jvm = try annotations("localhost:5000/spark/spark:4.3.0")
            #expect(jvm["org.opencontainers.image.version"] == "4.3.0", "\(jvm)")
            #expect(jvm["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z", "\(jvm)")
            #expect(jvm["org.opencontainers.image.base.name"] == nil, "a rootfs tarball has no reference: \(jvm)")
            let python = try annotations("localhost:5000/spark/spark-py:4.3.0")
            #expect(python["org.opencontainers.image.base.name"] == "localhost:5000/spark/spark:4.3.0", "\(python)")
            #expect(python["org.opencontainers.image.base.digest"] == sparkDigest, "\(python)")
        }
    }

    @Test func dockerLoadsAndRunsTheImage() throws {
        guard let docker = try TestServices.docker() else { return }
        try Built.with { built in
            let (dir, spark, base, tool) = (built.dir, built.spark, built.base, built.tool)
            let tag = "run-\(UUID().uuidString.prefix(8).lowercased())"
            try tool.build(home: spark.home, base: base, tag: tag)
            let archive = dir.appending(path: "docker.tar")
            let image = "localhost:5000/spark/spark:\(tag)"
            try tool.run(["save", image, "--format", "docker-archive", "-o", archive.path]).check()
            defer { _ = try? docker.run(["rmi", "-f", image]) }

            let load = try docker.run(["load", "-i", archive.path]).check()
            #expect(load.stdout.contains("Loaded image: \(image)"))
            let run = try docker.run(["run", "--rm", "--network", "none", image, "sh", "-c", "id -u; echo $SPARK_HOME; pwd"]).check()
            #expect(run.stdout.hasSuffix("185\n/opt/spark\n/opt/spark/work-dir\n"), "\(run)")
            #expect(run.stdout.contains("proceeding in pass-through mode"))
            let submit = try docker.run(["run", "--rm", "--network", "none", "--entrypoint", "/opt/spark/bin/spark-submit", image, "--version"]).check()
            #expect(submit.output == "spark-submit --version")
        }
    }

    @Test func buildsAreReproducibleAndAJarChangeTouchesOneLayer() throws {
        try TemporaryDirectory.with { dir in
            let spark = try SparkFixture(at: dir.appending(path: "spark"))
            let base = dir.appending(path: "base.tar.gz")
            try TinyBase.makeRootfs(at: base)
            let first = Tool(store: dir.appending(path: "store1"))
            let second = Tool(store: dir.appending(path: "store2"))
            try first.build(home: spark.home, base: base)
            try second.build(home: spark.home, base: base, extra: ["-n"])
            let image = "localhost:5000/spark/spark:4.3.0"
            #expect(try first.manifestDigest(image) == second.manifestDigest(image))

            let before = try layers(tool: first, image: image, dir: dir)
            try spark.changeJar("spark-sql_2.13-4.3.0.jar")
            let rebuild = try first.build(home: spark.home, base: base)
            #expect(rebuild.stdout.contains("(1 built, 10 cached)"), "\(rebuild)")
            let after = try layers(tool: first, image: image, dir: dir)
            #expect(before.count == after.count)
            let changed = zip(before, after).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            #expect(changed == [before.count - 1], "only the jars layer (the last one) may change")
        }
    }

    /// The jars cut into several layers unpack to exactly the distribution's files.
    @Test func splitLayersKeepTheFileTree() throws {
        try Built.with { built in
            let (dir, spark, base, tool) = (built.dir, built.spark, built.base, built.tool)
            let build = try tool.build(home: spark.home, base: base, tag: "split", extra: ["--split-layers-over", "100k"])
            #expect(build.stdout.contains("layers (") && !build.stdout.contains(" 12 layers"), "\(build)")
            let layers = try layers(tool: tool, image: "localhost:5000/spark/spark:split", dir: dir)
            #expect(layers.count > 12, "the jars are in several layers: \(layers.count)")
            let archive = dir.appending(path: "split.tar")
            try tool.run(["save", "localhost:5000/spark/spark:split", "-o", archive.path]).check()
            let layout = dir.appending(path: "layout")
            try FileManager.default.createDirectory(at: layout, withIntermediateDirectories: true)
            try Command.run("tar", ["-xf", archive.path, "-C", layout.path]).check()
            let bundle = dir.appending(path: "bundle")
            try Command.run("umoci", ["unpack", "--image", "\(layout.path):localhost:5000/spark/spark:split", bundle.path]).check()
            try expectSameTree(spark.home.appending(path: "jars"), bundle.appending(path: "rootfs/opt/spark/jars"))
        }
    }

    private func layers(tool: Tool, image: String, dir: URL) throws -> [String] {
        let archive = dir.appending(path: "layers-\(UUID().uuidString).tar")
        try tool.run(["save", image, "-o", archive.path]).check()
        let inspect = try Command.run("skopeo", ["inspect", "oci-archive:\(archive.path)"]).check()
        let json = try JSONSerialization.jsonObject(with: inspect.stdoutData) as! [String: Any]
        return json["Layers"] as! [String]
    }
}

func mode(_ url: URL) throws -> Int {
    var info = stat()
    guard lstat(url.path, &info) == 0 else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: url.path]) }
    return Int(info.st_mode) & 0o7777
}

/// Every file, directory and symlink under `expected` is under `actual` with the same content,
/// mode, owner root and link target.
func expectSameTree(_ expected: URL, _ actual: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let fm = FileManager.default
    let paths = try fm.subpathsOfDirectory(atPath: expected.path).sorted()
    #expect(!paths.isEmpty, "fixture directory \(expected.path) is empty", sourceLocation: sourceLocation)
    #expect(try fm.subpathsOfDirectory(atPath: actual.path).sorted() == paths, sourceLocation: sourceLocation)
    for path in paths {
        let source = expected.appending(path: path)
        let target = actual.appending(path: path)
        #expect(try mode(target) == mode(source), "\(path)", sourceLocation: sourceLocation)
        let attributes = try fm.attributesOfItem(atPath: target.path)
        #expect(attributes[.ownerAccountID] as? Int == 0, "\(path) owner", sourceLocation: sourceLocation)
        if attributes[.type] as? FileAttributeType == .typeSymbolicLink {
            #expect(try fm.destinationOfSymbolicLink(atPath: target.path) == fm.destinationOfSymbolicLink(atPath: source.path),
                    sourceLocation: sourceLocation)
        } else if attributes[.type] as? FileAttributeType == .typeRegular {
            #expect(fm.contents(atPath: target.path) == fm.contents(atPath: source.path), "\(path) content", sourceLocation: sourceLocation)
        }
    }
}
