/// The media types this tool reads and writes.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    /// The `{}` config of OCI 1.1 artifacts.
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"
    /// An SPDX JSON document, as the artifactType and layer of an SBOM referrer.
    public static let spdxJSON = "application/spdx+json"

    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd"

    public static func isIndex(_ type: String) -> Bool { type == ociIndex || type == dockerManifestList }
    public static func isManifest(_ type: String) -> Bool { type == ociManifest || type == dockerManifest }
}

/// Which family of media types a manifest uses: OCI (the default) or Docker v2 schema 2 (`--format docker`).
public enum ManifestFormat: String, Sendable, CaseIterable {
    case oci, docker

    public var manifestMediaType: String { self == .oci ? MediaType.ociManifest : MediaType.dockerManifest }
    public var indexMediaType: String { self == .oci ? MediaType.ociIndex : MediaType.dockerManifestList }
    public var configMediaType: String { self == .oci ? MediaType.ociConfig : MediaType.dockerConfig }

    /// The layer media type in this family for the same bytes, so a base layer keeps its blob
    /// when the new manifest uses the other family.
    public func layerMediaType(equivalentTo type: String) -> String {
        layerMediaType(for: LayerCompression(mediaType: type) ?? .gzip)
    }

    public func layerMediaType(for compression: LayerCompression) -> String {
        switch compression {
        case .none: self == .oci ? MediaType.ociLayer : MediaType.dockerLayer
        case .gzip: self == .oci ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip
        case .zstd: self == .oci ? MediaType.ociLayerZstd : MediaType.dockerLayerZstd
        }
    }
}

public enum LayerCompression: String, Sendable, CaseIterable {
    case none, gzip, zstd

    /// nil for media types that are not layers.
    public init?(mediaType: String) {
        switch mediaType {
        case MediaType.ociLayer, MediaType.dockerLayer: self = .none
        case MediaType.ociLayerGzip, MediaType.dockerLayerGzip: self = .gzip
        case MediaType.ociLayerZstd, MediaType.dockerLayerZstd: self = .zstd
        default: return nil
        }
    }
}
