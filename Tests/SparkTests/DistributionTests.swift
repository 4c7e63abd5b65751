import Foundation
import Testing
@testable import Spark

@Suite struct DistributionTests {
    @Test func release() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.release()

        let dist = try SparkDistribution.locate(home: tree.root)
        #expect(dist.kind == .release)
        #expect(dist.root == tree.root)
        #expect(dist.version == "4.3.0")
        #expect(dist.scalaVersion == "2.13")
        #expect(dist.buildArgs == [:])
        #expect(dist.variants == [.spark, .sparkPy, .sparkR])
        #expect(dist.imagePath == "kubernetes/dockerfiles")
        #expect(dist.contextMounts(usingDefaultDockerfiles: false) == [
            ContextMount(contextPath: "", source: .directory(path: tree.root, excluding: [])),
        ])
    }

    @Test(arguments: [
        (false, false, [ImageVariant.spark]),
        (true, false, [.spark, .sparkPy]),
        (false, true, [.spark, .sparkR]),
        (true, true, [.spark, .sparkPy, .sparkR]),
    ])
    func releaseVariants(python: Bool, sparkR: Bool, expected: [ImageVariant]) throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.release(python: python, sparkR: sparkR)
        #expect(try SparkDistribution.locate(home: tree.root).variants == expected)
    }

    @Test func releaseVersionFallsBackToCoreJar() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.release(version: "3.5.7")
        try tree.file("RELEASE", "")
        let dist = try SparkDistribution.locate(home: tree.root)
        #expect(dist.version == "3.5.7")
        #expect(dist.scalaVersion == "2.13")
    }

    @Test func sourceBuild() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.sourceBuild()

        let dist = try SparkDistribution.locate(home: tree.root)
        #expect(dist.kind == .sourceBuild)
        #expect(dist.version == "4.3.0-SNAPSHOT")
        #expect(dist.scalaVersion == "2.13")
        #expect(dist.buildArgs == [
            "img_path": "resource-managers/kubernetes/docker/src/main/dockerfiles",
            "spark_jars": "assembly/target/scala-2.13/jars",
            "example_jars": "examples/target/scala-2.13/jars",
            "k8s_tests": "resource-managers/kubernetes/integration-tests/tests",
        ])
        #expect(dist.variants == [.spark, .sparkPy])
        #expect(dist.imagePath == "resource-managers/kubernetes/docker/src/main/dockerfiles")
    }

    @Test func sourceBuildOfOtherScalaWithoutPom() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.sourceBuild(scala: "2.12", version: "3.4.4", pom: false)
        let dist = try SparkDistribution.locate(home: tree.root)
        #expect(dist.version == "3.4.4")
        #expect(dist.scalaVersion == "2.12")
        #expect(dist.buildArgs["spark_jars"] == "assembly/target/scala-2.12/jars")
        #expect(dist.buildArgs["example_jars"] == "examples/target/scala-2.12/jars")
    }

    @Test func pipPackage() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.pipPackage()

        let dist = try SparkDistribution.locate(home: tree.root)
        #expect(dist.kind == .pipPackage)
        #expect(dist.version == "4.3.0")
        #expect(dist.scalaVersion == "2.13")
        #expect(dist.buildArgs == [:])
        #expect(dist.variants == [.spark, .sparkPy])
        #expect(dist.contextMounts(usingDefaultDockerfiles: false) == [
            ContextMount(contextPath: "", source: .directory(path: tree.root, excluding: [])),
            ContextMount(contextPath: "python/pyspark", source: .directory(
                path: tree.root,
                excluding: ["bin", "data", "examples", "jars", "licenses", "python", "sbin", "spark-distribution"])),
        ])
    }

    /// The spark-py image must not carry the jars (or anything else) a second time.
    @Test(arguments: ["jars/spark-core_2.13-4.3.0.jar", "bin/spark-submit", "python/lib/pyspark.zip", "licenses/LICENSE-py4j.txt"])
    func pipPythonSourcesExcludeTheRest(entry: String) throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.pipPackage()
        let mounts = try SparkDistribution.locate(home: tree.root).mounts
        #expect(ContextMount.resolve("python/pyspark/" + entry, in: mounts) == nil)
        #expect(ContextMount.resolve("python/pyspark/sql/__init__.py", in: mounts)?.diskPath == tree.path("sql/__init__.py"))
        #expect(ContextMount.resolve("python/pyspark/shell.py", in: mounts)?.diskPath == tree.path("shell.py"))
    }

    @Test func homeIsStandardized() throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.release()
        #expect(try SparkDistribution.locate(home: tree.path("bin") + "/../").root == tree.root)
    }

    @Test(arguments: [("a/b", "/a/b"), ("a/./b/", "/a/b"), ("a/c/../b", "/a/b"), (".", "")])
    func relativeHomeIsTakenFromTheCurrentDirectory(home: String, suffix: String) {
        let cwd = FileManager.default.currentDirectoryPath
        #expect(SparkDistribution.absolutePath(home) == (cwd == "/" ? "" : cwd) + suffix)
    }

    @Test(arguments: [("/x/y/", "/x/y"), ("/x//y/./z/..", "/x/y"), ("/", "/")])
    func absoluteHome(home: String, expected: String) {
        #expect(SparkDistribution.absolutePath(home) == expected)
    }

    /// Our entrypoint, decom.sh and work-dir are laid over img_path/spark only for our Dockerfiles.
    @Test(arguments: [DistributionKind.release, .sourceBuild, .pipPackage])
    func overlaysForDefaultDockerfiles(kind: DistributionKind) throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.make(kind)
        let dist = try SparkDistribution.locate(home: tree.root)
        let base = dist.contextMounts(usingDefaultDockerfiles: false)
        let dir = dist.imagePath + "/spark"
        #expect(dist.mounts == dist.contextMounts(usingDefaultDockerfiles: true))
        #expect(dist.mounts == base + [
            ContextMount(contextPath: dir + "/entrypoint.sh",
                         source: .bytes(DefaultDockerfiles.entrypoint.bytes, mode: 0o755)),
            ContextMount(contextPath: dir + "/decom.sh", source: .bytes(DefaultDockerfiles.decom.bytes, mode: 0o755)),
            ContextMount(contextPath: dir + "/work-dir", source: .emptyDirectory(mode: 0o755)),
        ])
        #expect(ContextMount.resolve(dir + "/entrypoint.sh", in: dist.mounts)?.mount.source
                == .bytes(DefaultDockerfiles.entrypoint.bytes, mode: 0o755))
    }
}

@Suite struct RefusalTests {
    static let noImage = "Cannot find docker image. This script must be run from a runnable distribution of Apache Spark."
    static let noJars = "Cannot find Spark JARs. This script assumes that Apache Spark has first been built locally or this is a runnable distribution."

    /// A tree, what locate says about it (with `@` standing for the tree's root).
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var make: @Sendable (TempTree) throws -> Void
        var code: SparkError.Code
        var summary: String
        var detail: String
        var testDescription: String { name }
    }

    static let lookedEverywhere = """
        Looked in @ for a Spark release (@/RELEASE), a source build \
        (@/resource-managers/kubernetes/docker/src/main/dockerfiles or @/assembly/target) and a \
        pip-installed pyspark package (@/version.py and @/__init__.py).
        """

    static let cases: [Case] = [
        Case(name: "empty directory", make: { _ in }, code: .notADistribution, summary: noImage, detail: lookedEverywhere),
        Case(name: "missing directory", make: { try $0.file("x"); try FileManager.default.removeItem(atPath: $0.root) },
             code: .notADistribution, summary: noImage, detail: "@ does not exist or is not a directory."),
        Case(name: "site-packages instead of its pyspark", make: { try $0.file("pyspark/version.py"); try $0.file("pyspark/__init__.py") },
             code: .notADistribution, summary: noImage,
             detail: lookedEverywhere + " For a pip install, pass the package directory @/pyspark."),
        Case(name: "release without jars", make: { try $0.file("RELEASE", "Spark 4.3.0 built for Hadoop 3\n"); try $0.dir("jars") },
             code: .noSparkJars, summary: noJars, detail: "Looked for @/jars/spark-*.jar (release layout)."),
        Case(name: "release with only other jars", make: { try $0.file("RELEASE"); try $0.file("jars/scala-library-2.13.16.jar") },
             code: .noSparkJars, summary: noJars, detail: "Looked for @/jars/spark-*.jar (release layout)."),
        Case(name: "unbuilt source tree", make: { try $0.dir("resource-managers/kubernetes/docker/src/main/dockerfiles/spark") },
             code: .noSparkJars, summary: noJars,
             detail: "Looked for @/assembly/target/scala-*/jars/spark-*.jar (source build layout)."),
        Case(name: "source tree without assembly jars", make: { try $0.dir("assembly/target/scala-2.13/jars") },
             code: .noSparkJars, summary: noJars,
             detail: "Looked for @/assembly/target/scala-2.13/jars/spark-*.jar (source build layout)."),
        Case(name: "source tree built for two Scalas", make: { try $0.dir("assembly/target/scala-2.12"); try $0.dir("assembly/target/scala-2.13") },
             code: .multipleScalaVersions,
             summary: "Presence of build for multiple Scala versions detected: @/assembly/target/scala-2.12, @/assembly/target/scala-2.13.",
             detail: "Remove all but one of them (docker-image-tool.sh would need SPARK_SCALA_VERSION to choose)."),
        Case(name: "pyspark client package without jars", make: { try $0.file("__init__.py"); try $0.file("version.py", "__version__ = '4.3.0'\n") },
             code: .noSparkJars, summary: noJars, detail: "Looked for @/jars/spark-*.jar (pip-installed pyspark layout)."),
    ]

    @Test(arguments: cases)
    func refused(_ refusal: Case) throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try refusal.make(tree)
        let expected = SparkError(
            code: refusal.code,
            summary: refusal.summary.replacingOccurrences(of: "@", with: tree.root),
            detail: refusal.detail.replacingOccurrences(of: "@", with: tree.root))
        #expect(throws: expected) { try SparkDistribution.locate(home: tree.root) }
        #expect(expected.exitCode == 1)
        #expect(expected.description == expected.summary + "\n" + expected.detail)
    }
}
