import Foundation
import Testing

/// Each mistake gets a clear message and a non-zero exit, and leaves the store consistent.
@Suite(.serialized)
struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// Prepares the distribution (and any files) and returns extra build arguments.
        var setUp: @Sendable (URL, URL) throws -> [String]
        var expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "missing SPARK_HOME", setUp: { _, dir in ["--spark-home", dir.appending(path: "nowhere").path] },
             expected: ["Cannot find docker image. This script must be run from a runnable distribution of Apache Spark."]),
        Case(name: "partial SPARK_HOME", setUp: { home, _ in
            try FileManager.default.removeItem(at: home.appending(path: "jars"))
            return []
        }, expected: ["Cannot find Spark JARs.", "/jars"]),
        Case(name: "RUN in a Dockerfile", setUp: { _, dir in
            let file = dir.appending(path: "Dockerfile.run")
            try Data("FROM scratch\nCOPY jars /opt/spark/jars\nRUN apt-get install -y python3\n".utf8).write(to: file)
            return ["-f", file.path]
        }, expected: ["Dockerfile.run:3: RUN exited with status 127: /bin/sh -c apt-get install -y python3", "apt-get: not found"]),
        Case(name: "missing COPY source", setUp: { _, dir in
            let file = dir.appending(path: "Dockerfile.missing")
            try Data("FROM scratch\nCOPY conf/spark-defaults.conf /opt/spark/conf/\n".utf8).write(to: file)
            return ["-f", file.path]
        }, expected: ["Dockerfile.missing:2:", "COPY source 'conf/spark-defaults.conf' not found"]),
        Case(name: "symlink escaping the context", setUp: { home, _ in
            try FileManager.default.createSymbolicLink(atPath: home.appending(path: "jars/evil.jar").path, withDestinationPath: "/etc/shadow")
            return []
        }, expected: ["symlink 'jars/evil.jar' -> '/etc/shadow' points outside the build context"]),
        Case(name: "relative symlink climbing out", setUp: { home, _ in
            try FileManager.default.createSymbolicLink(atPath: home.appending(path: "data/up").path, withDestinationPath: "../../outside")
            return []
        }, expected: ["symlink 'data/up' -> '../../outside' points outside the build context"]),
        Case(name: "FIFO in the context", setUp: { home, _ in
            try Command.run("mkfifo", [home.appending(path: "data/pipe").path]).check()
            return []
        }, expected: ["data/pipe is a socket, FIFO or device file", "hint: remove it"]),
        Case(name: "bad tag", setUp: { _, _ in ["-t", "Bad:Tag"] }, expected: ["invalid tag 'Bad:Tag'"]),
        Case(name: "corrupt rootfs base", setUp: { _, dir in
            let file = dir.appending(path: "garbage.tar")
            try SparkFixture.pseudoRandomBytes(count: 20_000, seed: "garbage").write(to: file)
            return ["--base", "rootfs:\(file.path)"]
        }, expected: ["garbage.tar", "not a tar archive"]),
        Case(name: "corrupt oci-archive base", setUp: { _, dir in
            let file = dir.appending(path: "broken-oci.tar")
            try SparkFixture.pseudoRandomBytes(count: 20_000, seed: "oci").write(to: file)
            return ["--base", "oci-archive:\(file.path)"]
        }, expected: ["broken-oci.tar"]),
        Case(name: "truncated docker-archive base", setUp: { _, dir in
            let full = dir.appending(path: "full.tar")
            try Command.run("tar", ["-cf", full.path, "-C", dir.path, "spark"]).check()
            let data = try Data(contentsOf: full)
            try data.prefix(data.count / 2).write(to: dir.appending(path: "truncated.tar"))
            return ["--base", "docker-archive:\(dir.appending(path: "truncated.tar").path)"]
        }, expected: ["truncated.tar"]),
        Case(name: "base not in the store", setUp: { _, _ in ["--base", "eclipse-temurin:17-jre", "--pull", "never"] },
             expected: ["docker.io/library/eclipse-temurin:17-jre is not in the local store and --pull never forbids fetching it"]),
    ]

    @Test(arguments: cases)
    func refusedClearly(_ testCase: Case) throws {
        try Built.with { built in
            let (dir, spark, base, tool) = (built.dir, built.spark, built.base, built.tool)
            // A good image first, so there is something in the store that a failure could harm.
            try tool.build(home: spark.home, base: base, tag: "good")
            let extra = try testCase.setUp(spark.home, dir)
            var arguments = ["build", "--spark-home", spark.home.path, "-r", "localhost:5000/spark", "-t", "4.3.0",
                             "--base", "rootfs:\(base.path)"]
            arguments += extra
            let result = try tool.run(arguments)
            #expect(result.status == 1, "\(result)")
            for fragment in testCase.expected {
                #expect(result.stderr.contains(fragment), "expected '\(fragment)' in:\n\(result.stderr)")
            }
            #expect(!result.stderr.contains("Fatal error"), "\(result)")
            let verify = try tool.expectConsistentStore()
            #expect(verify.succeeded, "\(verify)")
            #expect(try tool.manifestDigest("localhost:5000/spark/spark:good").hasPrefix("sha256:"))
        }
    }

    /// Root reads any file, so the unreadable-file case runs the tool as nobody.
    @Test func unreadableFileIsNamed() throws {
        try TemporaryDirectory.with { dir in
            let spark = try SparkFixture(at: dir.appending(path: "spark"))
            let base = dir.appending(path: "base.tar.gz")
            try TinyBase.makeRootfs(at: base)
            // Only the jar is unreadable for nobody; the fixture's 0600 data file would be too.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: spark.home.appending(path: "data/mllib/sample.txt").path)
            let secret = spark.home.appending(path: "jars/spark-core_2.13-4.3.0.jar")
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: secret.path)
            let store = dir.appending(path: "store")
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
            for path in [dir, store] { try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: path.path) }
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: base.path)
            let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", try Binary.path()]
            let result = try Command.run("setpriv", asNobody + [
                "build", "--store", store.path, "--spark-home", spark.home.path, "-t", "x", "--base", "rootfs:\(base.path)",
            ], environment: ["HOME": dir.path])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("cannot read \(secret.path)"), "\(result)")
            #expect(result.stderr.contains("Permission denied"), "\(result)")
            let verify = try Tool(store: store).expectConsistentStore()
            #expect(verify.succeeded, "\(verify)")
        }
    }
}
