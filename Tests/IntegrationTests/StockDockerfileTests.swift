import Foundation
import Testing

/// A Dockerfile in the style of Spark's own kubernetes/dockerfiles/spark/Dockerfile (the same
/// packages and file edits, written here) on a Debian bookworm JRE base with apt
/// (scripts/make-base-image.sh --apt, cached after its first run), with apt-get reaching Debian's
/// archive from the RUN over the host's network; the python binding's RUN steps on a real Spark,
/// and pip from PyPI behind a cache mount. The slow tests, in a suite of their own.
@Suite(.serialized)
struct StockDockerfileTests {
    /// Tests/Fixtures/stock-style/Dockerfile, which scripts/bench.sh's RUN scenario builds too; its
    /// FROM is replaced by --base. A missing file fails the build that reads this.
    static let dockerfile = (try? String(contentsOf: PackageRoot.url.appending(path: "Tests/Fixtures/stock-style/Dockerfile"), encoding: .utf8))
        ?? "# Tests/Fixtures/stock-style/Dockerfile is missing\n"

    /// The RUN steps of Spark's bindings/python/Dockerfile (written here): python3 and pip from
    /// Debian's archive on top of the spark image (`base_img`), the apt lists removed.
    static let pythonDockerfile = """
        ARG base_img
        FROM $base_img
        WORKDIR /
        USER 0
        RUN mkdir ${SPARK_HOME}/python
        RUN apt-get update \\
            && DEBIAN_FRONTEND=noninteractive apt install -y python3 python3-pip \\
            && rm -rf /root/.cache && rm -rf /var/cache/apt/* && rm -rf /var/lib/apt/lists/*
        COPY python/pyspark ${SPARK_HOME}/python/pyspark
        COPY python/lib ${SPARK_HOME}/python/lib
        WORKDIR /opt/spark/work-dir
        ARG spark_uid=185
        USER ${spark_uid}

        """

    /// A custom Dockerfile as users write them: pip behind a cache mount (a wheelhouse in it, which
    /// pip reuses whatever caching headers reach it; the TLS-inspecting proxy here strips them, so
    /// pip's own HTTP cache stores nothing), then a python3 heredoc. The host's CA bundle comes in
    /// as a secret, as users behind such proxies pass theirs.
    static let pipDockerfile = """
        FROM scratch
        RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip \\
            && rm -rf /var/lib/apt/lists/*
        ARG PIP_ROUND=1
        RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=ca,required=true \\
            echo "pip round $PIP_ROUND" \\
            && pip download --cert /run/secrets/ca --dest /root/.cache/pip/wheelhouse six \\
            && pip install --break-system-packages --no-index --find-links /root/.cache/pip/wheelhouse six
        RUN <<EOF
        #!/usr/bin/env python3
        import six
        with open("/six-version", "w") as out:
            out.write(six.__version__ + "\\n")
        EOF

        """

    /// Debian bookworm with apt and a JRE (scripts/make-base-image.sh --apt, cached after its first run).
    static func aptBase() throws -> String {
        let base = try Command.run(PackageRoot.url.appending(path: "scripts/make-base-image.sh").path, ["--apt"], timeout: .seconds(900)).check()
        return base.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func stockStyleDockerfileWithAptBuildsAndRuns() throws {
        let baseTar = try Self.aptBase()
        try RunFixture.with { fixture in
            try fixture.dockerfile(Self.dockerfile)
            let started = Date()
            try fixture.build(tag: "stock", extra: ["--base", "rootfs:\(baseTar)"])
            let cold = Date().timeIntervalSince(started)
            try fixture.spark.changeJar("spark-core_2.13-4.3.0.jar")
            let again = Date()
            let second = try fixture.build(tag: "stock", extra: ["--base", "rootfs:\(baseTar)"])
            let warm = Date().timeIntervalSince(again)
            print("stock-style build: cold \(String(format: "%.1f", cold)) s, after one jar changed \(String(format: "%.1f", warm)) s")
            #expect(!second.output.contains(try Regex("(?m)^#[0-9]+ [0-9.]+ ")), "a jar change re-runs no RUN that prints (the apt one)")

            let rootfs = try fixture.unpack("spark:stock")
            for tool in ["usr/bin/tini", "usr/bin/ps", "usr/bin/kinit", "usr/bin/netstat"] {
                #expect(FileManager.default.fileExists(atPath: rootfs.appending(path: tool).path), "\(tool)")
            }
            let shell = try FileManager.default.destinationOfSymbolicLink(atPath: rootfs.appending(path: "usr/bin/sh").path)
            #expect(shell == "/bin/bash")
            let passwd = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "etc/passwd").path)
            #expect(((passwd[.posixPermissions] as? Int) ?? 0) & 0o060 == 0o060 && passwd[.groupOwnerAccountID] as? Int == 0)
            #expect(!FileManager.default.fileExists(atPath: rootfs.appending(path: "var/lib/apt/lists/lock").path))

            guard let docker = try TestServices.docker() else { return }
            let run = try fixture.dockerRun("spark:stock", on: docker, options: ["--network", "none", "--entrypoint", "/bin/sh"],
                                            command: ["-c", "id -u; /opt/spark/bin/spark-submit --version"]).check()
            #expect(run.stdout == "185\nspark-submit --version\n", "\(run)")
        }
    }

    /// pip from PyPI behind a cache mount: the second build (a build arg changed before the
    /// pip line) runs pip again, which finds the wheel in the cache; a python3 shebang heredoc
    /// imports it during the build, and `docker run` imports it from the image.
    @Test func pipBehindACacheMountHitsTheCacheTheSecondTime() throws {
        let baseTar = try Self.aptBase()
        try RunFixture.with { fixture in
            try fixture.dockerfile(Self.pipDockerfile)
            let ca = ["--secret", "id=ca,src=/etc/ssl/certs/ca-certificates.crt"]
            let first = try fixture.build(tag: "pip", extra: ["--base", "rootfs:\(baseTar)"] + ca)
            #expect(first.output.contains("pip round 1") && first.output.contains("Downloading six"), "\(first.output.suffix(3000))")
            let second = try fixture.build(tag: "pip", extra: ["--base", "rootfs:\(baseTar)", "-b", "PIP_ROUND=2"] + ca)
            #expect(second.output.contains("pip round 2"), "pip ran again: \(second.output.suffix(3000))")
            #expect(second.output.contains("File was already downloaded /root/.cache/pip/wheelhouse/six-"),
                    "pip found the wheel in the cache mount: \(second.output.suffix(3000))")
            #expect(!second.output.contains("Downloading six"), "nothing downloaded the second time")
            let caches = try FileManager.default.contentsOfDirectory(atPath: fixture.tool.store.appending(path: "run-cache").path)
            let wheels = caches.flatMap { (try? FileManager.default.contentsOfDirectory(
                atPath: fixture.tool.store.appending(path: "run-cache/\($0)/wheelhouse").path)) ?? [] }
            #expect(wheels.contains { $0.hasPrefix("six-") }, "the wheel stays in the store's cache directory: \(caches)")
            let rootfs = try fixture.unpack("spark:pip")
            let version = FileManager.default.contents(atPath: rootfs.appending(path: "six-version").path).map { String(decoding: $0, as: UTF8.self) }
            #expect(version?.first?.isNumber == true, "the python3 heredoc ran: \(version ?? "no file")")
            #expect(!FileManager.default.fileExists(atPath: rootfs.appending(path: "root/.cache/pip").path), "the cache mount is in no layer")

            guard let docker = try TestServices.docker() else { return }
            let run = try fixture.dockerRun("spark:pip", on: docker, options: ["--network", "none", "--entrypoint", "python3"],
                                            command: ["-c", "import six; print(six.__version__)"]).check()
            #expect(run.stdout == version, "\(run)")
        }
    }

    /// A real Spark (scripts/fetch-spark.sh, from PyPI's pyspark) built as docker-image-tool.sh
    /// does with -f and -p: the stock-style spark image, then the python binding's RUN steps on
    /// it; the spark-py image runs a PySpark job (spark-submit, local[1]) as uid 185.
    @Test func stockStylePythonBindingRunsAPySparkJob() throws {
        let baseTar = try Self.aptBase()
        let spark = try Command.run(PackageRoot.url.appending(path: "scripts/fetch-spark.sh").path, timeout: .seconds(1800)).check()
        let sparkHome = spark.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try RunFixture.with { fixture in
            try fixture.dockerfile(Self.dockerfile)
            let python = fixture.dir.appending(path: "python.Dockerfile")
            try Data(Self.pythonDockerfile.utf8).write(to: python)
            try Binary.run(["build", "--spark-home", sparkHome, "-f", fixture.dockerfilePath.path, "-p", python.path, "-t", "pyspark",
                            "--store", fixture.tool.store.path, "--base", "rootfs:\(baseTar)"], timeout: .seconds(1800)).check()
            let rootfs = try fixture.unpack("spark-py:pyspark")
            #expect(FileManager.default.fileExists(atPath: rootfs.appending(path: "usr/bin/python3").path))
            #expect(!FileManager.default.fileExists(atPath: rootfs.appending(path: "var/lib/apt/lists/lock").path))

            guard let docker = try TestServices.docker() else { return }
            let job = """
                from pyspark.sql import SparkSession
                spark = SparkSession.builder.master("local[1]").appName("sum").getOrCreate()
                print("SUM=%d" % spark.sparkContext.parallelize(range(1, 101)).sum())
                spark.stop()
                """
            // Java needs its host name to resolve, which --network none leaves to --hostname localhost.
            let run = try fixture.dockerRun(
                "spark-py:pyspark", on: docker, options: ["--network", "none", "--hostname", "localhost", "--entrypoint", "/bin/sh"],
                command: ["-c", "cd /tmp && printf '%s\\n' \"$0\" > job.py && id -u && /opt/spark/bin/spark-submit --master 'local[1]' job.py", job])
            #expect(run.succeeded && run.stdout.contains("185\n") && run.stdout.contains("SUM=5050"), "\(run)")
        }
    }
}
