/// An image manifest (OCI or Docker v2 schema 2; the fields are the same).
public struct ImageManifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?
    /// OCI 1.1 artifacts (an SBOM): what kind of artifact, and the manifest it refers to.
    public var artifactType: String?
    public var subject: Descriptor?

    public init(mediaType: String, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An image index (OCI) or manifest list (Docker).
public struct ImageIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}

/// The `oci-layout` file of an image layout.
public struct ImageLayoutMarker: Codable, Hashable, Sendable {
    public var imageLayoutVersion = "1.0.0"
    public init() {}
}
