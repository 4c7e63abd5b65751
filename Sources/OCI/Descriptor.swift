/// An OCI content descriptor. Field names match the spec.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: Platform?
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }
}

public enum Annotation {
    public static let refName = "org.opencontainers.image.ref.name"
    public static let containerdImageName = "io.containerd.image.name"
    public static let created = "org.opencontainers.image.created"
    public static let version = "org.opencontainers.image.version"
    public static let baseName = "org.opencontainers.image.base.name"
    public static let baseDigest = "org.opencontainers.image.base.digest"
    public static let source = "org.opencontainers.image.source"
    public static let revision = "org.opencontainers.image.revision"
}

extension Sequence where Element == Descriptor {
    /// The sizes added up. They come from manifests that anyone may have written, so a sum
    /// that would overflow stops at Int64.max instead of trapping, and negative sizes count 0.
    public var totalSize: Int64 { reduce(0) { $0.addingSaturating($1.size) } }
}

extension Int64 {
    /// `self + other`, Int64.max past the top; a negative `other` adds nothing.
    public func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(Swift.max(other, 0))
        return overflow ? .max : sum
    }
}
