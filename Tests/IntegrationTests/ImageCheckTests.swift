import Foundation
import Testing

/// The build's image checks, through the binary: a busybox base lacks what Spark needs; a base
/// with java, tini, ps, python3 and a passwd entry for uid 185 passes.
@Suite(.serialized)
struct ImageCheckTests {
    @Test func aBusyboxBaseIsWarnedAboutAndStrictFails() throws {
        try Built.with { built in
            let build = try built.tool.build(home: built.spark.home, base: built.base)
            #expect(build.stderr.contains("warning: localhost:5000/spark/spark:4.3.0: the image has no java on PATH"), "\(build)")
            #expect(build.stderr.contains("no tini on PATH"), "\(build)")
            #expect(build.stderr.contains("user 185 has no entry in /etc/passwd"), "\(build)")
            #expect(!build.stderr.contains("no ps on PATH"), "busybox has ps: \(build)")

            let check = try built.tool.run(["check", "localhost:5000/spark/spark:4.3.0"])
            #expect(check.status == 1, "\(check)")
            #expect(check.stdout.contains("no java on PATH"), "\(check)")

            let strict = try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", "localhost:5000/spark", "-t", "strict",
                                             "--base", "rootfs:\(built.base.path)", "--strict"])
            #expect(strict.status == 1, "\(strict)")
            #expect(strict.stderr.contains("fails its checks (--strict)"), "\(strict)")
            #expect(!(try built.tool.run(["images"]).check().stdout.contains(":strict")), "a build that failed its checks is not tagged")
            #expect(try built.tool.expectConsistentStore().status == 0)
        }
    }

    @Test func aCompleteBaseIsQuiet() throws {
        try Built.with { built in
            let base = built.dir.appending(path: "complete.tar")
            try Self.makeCompleteBase(at: base, staging: built.dir.appending(path: "complete"))
            let build = try built.tool.build(home: built.spark.home, base: base, extra: ["--python", "--strict"])
            #expect(!build.stderr.contains("warning:"), "\(build)")
            let check = try built.tool.run(["check", "localhost:5000/spark/spark:4.3.0", "localhost:5000/spark/spark-py:4.3.0"]).check()
            #expect(check.stdout.contains("spark:4.3.0: ok") && check.stdout.contains("spark-py:4.3.0: ok"), "\(check)")
        }
    }

    /// Empty stand-ins are enough: the checks read the file tree, they run nothing.
    static func makeCompleteBase(at url: URL, staging: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: staging.appending(path: "usr/bin"), withIntermediateDirectories: true)
        try fm.createDirectory(at: staging.appending(path: "etc"), withIntermediateDirectories: true)
        for tool in ["java", "tini", "ps", "python3"] {
            fm.createFile(atPath: staging.appending(path: "usr/bin/\(tool)").path, contents: Data(), attributes: [.posixPermissions: 0o755])
        }
        try Data("root:x:0:0:root:/root:/bin/sh\nspark:x:185:185::/opt/spark:/bin/false\n".utf8)
            .write(to: staging.appending(path: "etc/passwd"))
        try Command.run("tar", ["--create", "--file", url.path, "--directory", staging.path, "--owner=0", "--group=0", "."]).check()
    }
}

/// `tag`, `history` and `inspect` read the store as docker's commands of the same names do.
struct InspectCommandTests {
    @Test func tagHistoryAndInspect() throws {
        try Built.with { built in
            let tool = built.tool
            try tool.build(home: built.spark.home, base: built.base)
            let image = "localhost:5000/spark/spark:4.3.0"
            let digest = try tool.manifestDigest(image)
            try tool.run(["tag", image, "example.com/copy:1"]).check()
            #expect(try tool.manifestDigest("example.com/copy:1") == digest)

            let history = try tool.run(["history", image]).check().stdout.split(separator: "\n").map(String.init)
            #expect(history.first?.hasPrefix("LAYER") == true, "\(history)")
            #expect(history.dropFirst().first?.hasSuffix("USER 185") == true, "newest first: \(history)")
            #expect(history.contains { $0.contains("COPY jars /opt/spark/jars") && !$0.hasPrefix("-") }, "\(history)")

            let inspect = try tool.run(["inspect", image]).check().stdout
            #expect(inspect.contains("Digest:      \(digest)"), "\(inspect)")
            #expect(inspect.contains("Annotation:  org.opencontainers.image.version=4.3.0"), "\(inspect)")
            #expect(inspect.contains("  SPARK_HOME=/opt/spark"), "\(inspect)")
            let layerLines = inspect.split(separator: "\n").filter { $0.hasPrefix("  sha256:") }
            #expect(layerLines.count == 12 && layerLines.last?.hasSuffix("COPY jars /opt/spark/jars") == true, "\(layerLines)")
        }
    }
}
