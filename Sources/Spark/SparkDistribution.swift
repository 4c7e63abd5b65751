import Foundation

/// The three directory layouts spark-image-tool builds images from.
public enum DistributionKind: String, Sendable {
    /// An unpacked Spark release (`RELEASE`, `jars/`, `bin/`, `kubernetes/`...).
    case release
    /// A Spark source tree built with Maven or sbt (`assembly/target/scala-<v>/jars`).
    case sourceBuild
    /// A pip-installed pyspark package directory (`site-packages/pyspark`).
    case pipPackage

    var displayName: String {
        switch self {
        case .release: "release"
        case .sourceBuild: "source build"
        case .pipPackage: "pip-installed pyspark"
        }
    }
}

/// The images docker-image-tool.sh builds, by their image names.
public enum ImageVariant: String, Sendable, CaseIterable {
    case spark
    case sparkPy = "spark-py"
    case sparkR = "spark-r"
}

/// A Spark distribution found on disk: what kind it is, which build arguments and build
/// context the Dockerfiles need for it, and which images it can make.
public struct SparkDistribution: Sendable {
    public let kind: DistributionKind
    /// Absolute path of the distribution (for a pip install, the pyspark package directory).
    public let root: String
    /// Spark's version, such as `4.3.0`, when it could be read.
    public let version: String?
    /// Scala's binary version, such as `2.13`, when it could be read.
    public let scalaVersion: String?
    /// Build arguments the Dockerfiles need for this layout (docker-image-tool.sh's for a
    /// source build: `spark_jars`, `example_jars`, `k8s_tests`, `img_path`). Empty when
    /// the Dockerfiles' defaults fit.
    public let buildArgs: [String: String]
    /// The build context for our default Dockerfiles: the distribution plus our overlays.
    /// Same as `contextMounts(usingDefaultDockerfiles: true)`.
    public var mounts: [ContextMount] { contextMounts(usingDefaultDockerfiles: true) }
    /// The images it can build: `spark` always, `spark-py` when the pyspark sources and
    /// `python/lib` exist, `spark-r` when SparkR was built (`R/lib/SparkR`).
    public let variants: [ImageVariant]

    /// The distribution's own files, with any remapping its layout needs (see `ContextMount`).
    let distributionMounts: [ContextMount]

    /// Where the Dockerfiles look for `spark/entrypoint.sh` and the like in the context.
    public var imagePath: String { buildArgs["img_path"] ?? Layout.releaseImagePath }

    /// The build context. With our default Dockerfiles, our `entrypoint.sh`, `decom.sh`
    /// and an empty `work-dir` are laid over `<img_path>/spark/`, replacing Spark's own
    /// scripts (ours need neither bash nor tini). A Dockerfile of the user's gets the
    /// distribution as it is.
    public func contextMounts(usingDefaultDockerfiles: Bool) -> [ContextMount] {
        guard usingDefaultDockerfiles else { return distributionMounts }
        let dir = imagePath + "/spark"
        return distributionMounts + [
            ContextMount(contextPath: dir + "/entrypoint.sh",
                         source: .bytes(DefaultDockerfiles.entrypoint.bytes, mode: DefaultDockerfiles.entrypoint.mode)),
            ContextMount(contextPath: dir + "/decom.sh",
                         source: .bytes(DefaultDockerfiles.decom.bytes, mode: DefaultDockerfiles.decom.mode)),
            ContextMount(contextPath: dir + "/work-dir", source: .emptyDirectory(mode: 0o755)),
        ]
    }

    /// Recognises the distribution at `home` (relative paths are taken from the current
    /// directory) or explains, with docker-image-tool.sh's message, why it is not one.
    public static func locate(home: String) throws(SparkError) -> SparkDistribution {
        let root = absolutePath(home)
        let disk = Disk(root: root)
        guard disk.isDirectory("") else {
            throw .notADistribution("\(root) does not exist or is not a directory.")
        }
        if disk.isFile("RELEASE") {
            return try Layout.release(disk)
        }
        if disk.isFile("__init__.py") && disk.isFile("version.py") {
            return try Layout.pipPackage(disk)
        }
        if disk.isDirectory(Layout.sourceImagePath) || disk.isDirectory("assembly/target") {
            return try Layout.sourceBuild(disk)
        }
        var detail = """
            Looked in \(root) for a Spark release (\(disk.path("RELEASE"))), a source build \
            (\(disk.path(Layout.sourceImagePath)) or \(disk.path("assembly/target"))) and a \
            pip-installed pyspark package (\(disk.path("version.py")) and \(disk.path("__init__.py"))).
            """
        if disk.isFile("pyspark/version.py") {
            detail += " For a pip install, pass the package directory \(disk.path("pyspark"))."
        }
        throw .notADistribution(detail)
    }

    static func absolutePath(_ path: String) -> String {
        let url = path.hasPrefix("/")
            ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        var result = url.standardizedFileURL.path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
