/// One file of the repository's `dockerfiles/` directory, compiled into the binary.
public struct EmbeddedFile: Sendable, Equatable {
    /// Path relative to `dockerfiles/`, such as `spark/entrypoint.sh`. It is also the path
    /// below `img_path` in the build context, as in Spark's `kubernetes/dockerfiles`.
    public let path: String
    /// `0o755` for executables, `0o644` otherwise (what git records).
    public let mode: UInt32
    /// The file's exact text.
    public let text: String

    public var bytes: [UInt8] { Array(text.utf8) }
}

/// spark-image-tool's own Dockerfiles and scripts (generated from `dockerfiles/` by
/// `scripts/embed-dockerfiles.sh`). They use COPY only, so they build without RUN.
public enum DefaultDockerfiles {
    /// Every embedded file, sorted by path.
    public static var files: [EmbeddedFile] { EmbeddedDockerfiles.files }

    public static var spark: String { file("spark/Dockerfile").text }
    public static var python: String { file("spark/bindings/python/Dockerfile").text }
    public static var r: String { file("spark/bindings/R/Dockerfile").text }
    public static var entrypoint: EmbeddedFile { file("spark/entrypoint.sh") }
    public static var decom: EmbeddedFile { file("spark/decom.sh") }

    /// The Dockerfile's path below `img_path`, as docker-image-tool.sh names them
    /// (`spark/Dockerfile`, `spark/bindings/python/Dockerfile`, `spark/bindings/R/Dockerfile`).
    public static func path(for variant: ImageVariant) -> String {
        switch variant {
        case .spark: "spark/Dockerfile"
        case .sparkPy: "spark/bindings/python/Dockerfile"
        case .sparkR: "spark/bindings/R/Dockerfile"
        }
    }

    public static func dockerfile(for variant: ImageVariant) -> String {
        file(path(for: variant)).text
    }

    static func file(_ path: String) -> EmbeddedFile {
        guard let file = files.first(where: { $0.path == path }) else {
            preconditionFailure("dockerfiles/\(path) is not embedded; run scripts/embed-dockerfiles.sh")
        }
        return file
    }
}
