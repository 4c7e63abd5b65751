/// How each kind of distribution is recognised and mapped to a build context.
enum Layout {
    static let releaseImagePath = "kubernetes/dockerfiles"
    /// docker-image-tool.sh's IMG_PATH for a source tree.
    static let sourceImagePath = "resource-managers/kubernetes/docker/src/main/dockerfiles"
    static let sourceTestsPath = "resource-managers/kubernetes/integration-tests/tests"

    /// What a pip install puts in the pyspark package directory besides the Python sources.
    /// A `python/pyspark` mount of the package leaves these out, so that the spark-py image
    /// does not carry the jars (and the rest) a second time.
    static let pipNonSourceEntries = ["bin", "data", "examples", "jars", "licenses", "python", "sbin", "spark-distribution"]

    static func release(_ disk: Disk) throws(SparkError) -> SparkDistribution {
        let jars = disk.sparkJars(in: "jars")
        guard !jars.isEmpty else {
            throw .noSparkJars(lookedFor: disk.path("jars/spark-*.jar"), layout: .release)
        }
        let core = VersionParsing.coreJar(in: jars)
        return SparkDistribution(
            kind: .release, root: disk.root,
            version: disk.read("RELEASE").flatMap(VersionParsing.releaseVersion) ?? core?.version,
            scalaVersion: core?.scala,
            buildArgs: [:],
            variants: variants(disk, python: hasPythonSources(disk)),
            distributionMounts: [rootMount(disk)])
    }

    static func sourceBuild(_ disk: Disk) throws(SparkError) -> SparkDistribution {
        let scalaDirs = disk.list("assembly/target").filter {
            $0.hasPrefix("scala-") && disk.isDirectory("assembly/target/" + $0)
        }
        guard scalaDirs.count <= 1 else {
            throw .multipleScalaVersions(scalaDirs.map { disk.path("assembly/target/" + $0) })
        }
        guard let scalaDir = scalaDirs.first else {
            throw .noSparkJars(lookedFor: disk.path("assembly/target/scala-*/jars/spark-*.jar"), layout: .sourceBuild)
        }
        let jarsPath = "assembly/target/\(scalaDir)/jars"
        let jars = disk.sparkJars(in: jarsPath)
        guard !jars.isEmpty else {
            throw .noSparkJars(lookedFor: disk.path(jarsPath + "/spark-*.jar"), layout: .sourceBuild)
        }
        let scala = String(scalaDir.dropFirst("scala-".count))
        let version = disk.read("pom.xml").flatMap(VersionParsing.pomVersion) ?? VersionParsing.coreJar(in: jars)?.version
        return SparkDistribution(
            kind: .sourceBuild, root: disk.root, version: version, scalaVersion: scala,
            buildArgs: [
                "img_path": sourceImagePath,
                "spark_jars": jarsPath,
                "example_jars": "examples/target/\(scalaDir)/jars",
                "k8s_tests": sourceTestsPath,
            ],
            variants: variants(disk, python: hasPythonSources(disk)),
            distributionMounts: [rootMount(disk)])
    }

    static func pipPackage(_ disk: Disk) throws(SparkError) -> SparkDistribution {
        let jars = disk.sparkJars(in: "jars")
        guard !jars.isEmpty else {
            throw .noSparkJars(lookedFor: disk.path("jars/spark-*.jar"), layout: .pipPackage)
        }
        let core = VersionParsing.coreJar(in: jars)
        // The package holds jars/, bin/, sbin/, data/, examples/src/main/python and
        // python/lib where a release has them; its own Python sources are at its top
        // level, where a release has them at python/pyspark.
        let mounts = [
            rootMount(disk),
            ContextMount(contextPath: "python/pyspark",
                         source: .directory(path: disk.root, excluding: pipNonSourceEntries)),
        ]
        return SparkDistribution(
            kind: .pipPackage, root: disk.root,
            version: disk.read("version.py").flatMap(VersionParsing.pysparkVersion) ?? core?.version,
            scalaVersion: core?.scala,
            buildArgs: [:],
            variants: variants(disk, python: disk.isDirectory("python/lib")),
            distributionMounts: mounts)
    }

    static func rootMount(_ disk: Disk) -> ContextMount {
        ContextMount(contextPath: "", source: .directory(path: disk.root, excluding: []))
    }

    static func hasPythonSources(_ disk: Disk) -> Bool {
        disk.isDirectory("python/pyspark") && disk.isDirectory("python/lib")
    }

    static func variants(_ disk: Disk, python: Bool) -> [ImageVariant] {
        var variants: [ImageVariant] = [.spark]
        if python { variants.append(.sparkPy) }
        if disk.isDirectory("R/lib/SparkR") { variants.append(.sparkR) }
        return variants
    }
}
