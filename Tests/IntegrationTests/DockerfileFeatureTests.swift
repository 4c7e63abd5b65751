import Foundation
import Testing

/// Dockerfile features beyond the built-in Dockerfiles, checked in the unpacked image.
@Suite(.serialized)
struct DockerfileFeatureTests {
    @Test func multiStageAddAndOwnership() throws {
        try TemporaryDirectory.with { dir in
            let spark = try SparkFixture(at: dir.appending(path: "spark"))
            let base = dir.appending(path: "base.tar.gz")
            try TinyBase.makeRootfs(at: base)
            try Data("jars/scala-*\n**/*.py\n!python/pyspark/__init__.py\n".utf8).write(to: spark.home.appending(path: ".dockerignore"))
            let conf = spark.home.appending(path: "conf")
            try FileManager.default.createDirectory(at: conf, withIntermediateDirectories: true)
            try Data("spark.master k8s://x\n".utf8).write(to: conf.appending(path: "spark-defaults.conf"))
            // An archive's absolute symlinks are its content, as in a root file system tarball.
            try FileManager.default.createSymbolicLink(atPath: conf.appending(path: "logs").path, withDestinationPath: "/var/log/spark")
            try Command.run("tar", ["-czf", spark.home.appending(path: "conf.tar.gz").path, "-C", spark.home.path, "conf"]).check()
            let dockerfile = dir.appending(path: "Dockerfile")
            try Data("""
                ARG base=rootfs:\(base.path)
                FROM scratch AS files
                COPY --chown=185:185 jars /staged/jars
                COPY bin/spark-submit /staged/bin/

                FROM ${base}
                COPY --from=files /staged/jars /opt/spark/jars
                COPY --from=0 --chmod=0700 /staged/bin/spark-submit /opt/spark/bin/submit
                ADD conf.tar.gz /opt/spark/
                COPY python /opt/spark/python
                ENV SPARK_HOME=/opt/spark PATH=/opt/spark/bin:$PATH
                LABEL org.opencontainers.image.title="spark test"
                EXPOSE 4040 7078/tcp
                USER 185:0
                CMD ["spark-submit"]

                """.utf8).write(to: dockerfile)
            let tool = Tool(store: dir.appending(path: "store"))
            try tool.run(["build", "--spark-home", spark.home.path, "-f", dockerfile.path, "-t", "multi"]).check()
            // umoci reads OCI media types only; skopeo checks the Docker v2 variant below.
            try tool.run(["build", "--spark-home", spark.home.path, "-f", dockerfile.path, "-t", "multi-docker", "--format", "docker"]).check()

            let rootfs = try unpack(tool: tool, image: "spark:multi", dir: dir)
            let jars = try FileManager.default.contentsOfDirectory(atPath: rootfs.appending(path: "opt/spark/jars").path).sorted()
            #expect(jars == ["spark-core_2.13-4.3.0.jar", "spark-sql_2.13-4.3.0.jar"], ".dockerignore drops scala-*")
            let jar = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "opt/spark/jars/spark-sql_2.13-4.3.0.jar").path)
            #expect(jar[.ownerAccountID] as? Int == 185, "COPY --from keeps the stage's owner")
            #expect(try mode(rootfs.appending(path: "opt/spark/bin/submit")) == 0o700)
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "opt/spark/conf/spark-defaults.conf").path)
                    == Data("spark.master k8s://x\n".utf8), "ADD unpacks local tar files")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs.appending(path: "opt/spark/conf/logs").path) == "/var/log/spark")
            #expect(FileManager.default.fileExists(atPath: rootfs.appending(path: "opt/spark/python/pyspark/__init__.py").path))
            #expect(FileManager.default.fileExists(atPath: rootfs.appending(path: "opt/spark/python/lib/pyspark.zip").path))

            let archive = dir.appending(path: "docker.tar")
            try tool.run(["save", "spark:multi-docker", "--format", "docker-archive", "-o", archive.path]).check()
            let raw = try Command.run("skopeo", ["inspect", "--raw", "docker-archive:\(archive.path)"]).check()
            #expect(raw.stdout.contains("application/vnd.docker.distribution.manifest.v2+json"))
            let config = try Command.run("skopeo", ["inspect", "--config", "docker-archive:\(archive.path)"]).check()
            let json = try JSONSerialization.jsonObject(with: config.stdoutData) as! [String: Any]
            let container = json["config"] as! [String: Any]
            #expect(container["User"] as? String == "185:0")
            #expect(container["Cmd"] as? [String] == ["spark-submit"])
            #expect((container["Env"] as? [String])?.contains("PATH=/opt/spark/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") == true)
            #expect((container["ExposedPorts"] as? [String: Any]).map { Set($0.keys) } == ["4040/tcp", "7078/tcp"])
            #expect((container["Labels"] as? [String: String])?["org.opencontainers.image.title"] == "spark test")
        }
    }

    /// The base's directory listing is read while the build goes on, betting that the layer tar
    /// is in walk order. This base lists /opt (mode 0750) last, after its contents and 60,000
    /// other entries: the bet is lost, the image is built again, and /opt keeps its mode.
    @Test func aBaseNotInWalkOrderStillGivesParentsTheirMetadata() throws {
        try Built.with { built in
            let base = built.dir.appending(path: "unordered.tar.gz")
            try Command.run("python3", ["-c", """
                import io, sys, tarfile
                def entry(name, kind=tarfile.DIRTYPE, mode=0o755):
                    info = tarfile.TarInfo(name); info.type = kind; info.mode = mode
                    return info
                with tarfile.open(sys.argv[1], "w:gz", compresslevel=1, format=tarfile.GNU_FORMAT) as tar:
                    tar.addfile(entry("opt/x"))
                    for i in range(60000): tar.addfile(entry(f"opt/x/f{i}", tarfile.REGTYPE, 0o644), io.BytesIO(b""))
                    tar.addfile(entry("opt", mode=0o750))
                """, base.path]).check()
            let build = try built.tool.run(["build", "--spark-home", built.spark.home.path, "-t", "unordered", "--base", "rootfs:\(base.path)"]).check()
            #expect(build.stderr.contains("not list its files in walk order"), "\(build)")
            let rootfs = try unpack(tool: built.tool, image: "spark:unordered", dir: built.dir)
            #expect(try mode(rootfs.appending(path: "opt")) == 0o750)
            #expect(try mode(rootfs.appending(path: "opt/spark")) == 0o755)
        }
    }

    @Test func dockerImageToolArgumentOrderAndStoreCommands() throws {
        try Built.with { built in
            let (dir, spark, base, tool) = (built.dir, built.spark, built.base, built.tool)
            // As with docker-image-tool.sh: options first, the command last, SPARK_HOME from the environment.
            let build = try Binary.run(["--store", tool.store.path, "-r", "example.com/team", "-t", "v1", "-u", "1000",
                                        "-b", "base=x", "--base", "rootfs:\(base.path)", "build"],
                                       environment: ["SPARK_HOME": spark.home.path])
            #expect(build.succeeded, "\(build)")
            #expect(build.stderr.contains("warning: build arg base was not consumed"), "\(build)")
            let rootfs = try unpack(tool: tool, image: "example.com/team/spark:v1", dir: dir)
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: rootfs.deletingLastPathComponent().appending(path: "config.json"))) as! [String: Any]
            #expect(((config["process"] as! [String: Any])["user"] as! [String: Any])["uid"] as? Int == 1000, "-u sets spark_uid")

            #expect(try tool.run(["rmi", "example.com/team/spark:v1"]).check().output == "untagged example.com/team/spark:v1")
            let gc = try tool.run(["gc"]).check()
            #expect(gc.output.hasPrefix("removed "), "\(gc)")
            #expect(!gc.output.hasPrefix("removed 0 "), "the untagged image's blobs are collected")
            #expect(try tool.run(["images"]).check().output.split(separator: "\n").count == 1, "only the header remains")
            let missing = try tool.run(["rmi", "example.com/team/spark:v1"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("no image example.com/team/spark:v1 in the local store"))
            #expect(try tool.expectConsistentStore().succeeded)
        }
    }

    private func unpack(tool: Tool, image: String, dir: URL) throws -> URL {
        let archive = dir.appending(path: "unpack-\(UUID().uuidString).tar")
        try tool.run(["save", image, "-o", archive.path]).check()
        let layout = dir.appending(path: "layout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: layout, withIntermediateDirectories: true)
        try Command.run("tar", ["-xf", archive.path, "-C", layout.path]).check()
        let reference = try String(contentsOf: layout.appending(path: "index.json"), encoding: .utf8)
            .components(separatedBy: "\"org.opencontainers.image.ref.name\":\"")[1].components(separatedBy: "\"")[0]
        let bundle = dir.appending(path: "bundle-\(UUID().uuidString)")
        try Command.run("umoci", ["unpack", "--image", "\(layout.path):\(reference)", bundle.path]).check()
        return bundle.appending(path: "rootfs")
    }
}
