import Support

/// Why a directory was not accepted as a Spark distribution.
///
/// `summary` is docker-image-tool.sh's own message for the case (the CLI exits with 1, as
/// the script does); `detail` says what was looked for and where.
public struct SparkError: HintedError, Equatable, Sendable {
    public enum Code: String, Sendable {
        /// No release, source build or pyspark package was found.
        case notADistribution
        /// The layout was recognised but holds no `spark-*` jars.
        case noSparkJars
        /// A source build has assembly jars for more than one Scala version.
        case multipleScalaVersions
    }

    public var code: Code
    public var summary: String
    public var detail: String

    /// The exit code docker-image-tool.sh uses for these errors.
    public var exitCode: Int32 { 1 }

    public var message: String { summary }
    public var hint: String? { nil }
    public var description: String { detail.isEmpty ? summary : summary + "\n" + detail }

    public init(code: Code, summary: String, detail: String) {
        self.code = code
        self.summary = summary
        self.detail = detail
    }

    static let cannotFindDockerImage =
        "Cannot find docker image. This script must be run from a runnable distribution of Apache Spark."
    static let cannotFindJars =
        "Cannot find Spark JARs. This script assumes that Apache Spark has first been built locally or this is a runnable distribution."

    static func notADistribution(_ detail: String) -> SparkError {
        SparkError(code: .notADistribution, summary: cannotFindDockerImage, detail: detail)
    }

    static func noSparkJars(lookedFor pattern: String, layout: DistributionKind) -> SparkError {
        SparkError(code: .noSparkJars, summary: cannotFindJars,
                   detail: "Looked for \(pattern) (\(layout.displayName) layout).")
    }

    static func multipleScalaVersions(_ directories: [String]) -> SparkError {
        SparkError(
            code: .multipleScalaVersions,
            summary: "Presence of build for multiple Scala versions detected: \(directories.joined(separator: ", ")).",
            detail: "Remove all but one of them (docker-image-tool.sh would need SPARK_SCALA_VERSION to choose).")
    }
}
