import OCI
import Testing

struct CanonicalJSONTests {
    let layerDigest = Digest(sha256Hex: String(repeating: "1", count: 64))
    let configDigest = Digest(sha256Hex: String(repeating: "2", count: 64))

    @Test func manifestBytesAreSortedAndCompact() throws {
        let manifest = ImageManifest(
            mediaType: MediaType.ociManifest,
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: 7),
            layers: [Descriptor(mediaType: MediaType.ociLayerGzip, digest: layerDigest, size: 42)])
        let text = String(decoding: try CanonicalJSON.encode(manifest), as: UTF8.self)
        let expected = #"{"config":{"digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","mediaType":"application/vnd.oci.image.config.v1+json","size":7},"layers":[{"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":42}],"mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}"#
        #expect(text == expected)
    }

    @Test func configUsesSpecFieldNames() throws {
        var config = ImageConfig(platform: Platform(os: "linux", architecture: "amd64"), created: "1970-01-01T00:00:00Z")
        var container = ContainerConfig()
        container.env = ["SPARK_HOME=/opt/spark"]
        container.entrypoint = ["/opt/entrypoint.sh"]
        container.exposedPorts = ["4040/tcp": EmptyObject()]
        container.workingDir = "/opt/spark/work-dir"
        container.user = "185"
        config.config = container
        config.rootfs = RootFS(diffIDs: [layerDigest])
        config.history = [History(created: "1970-01-01T00:00:00Z", createdBy: "ENV SPARK_HOME=/opt/spark", emptyLayer: true)]
        let text = String(decoding: try CanonicalJSON.encode(config), as: UTF8.self)
        let expected = #"{"architecture":"amd64","config":{"Entrypoint":["/opt/entrypoint.sh"],"Env":["SPARK_HOME=/opt/spark"],"ExposedPorts":{"4040/tcp":{}},"User":"185","WorkingDir":"/opt/spark/work-dir"},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"ENV SPARK_HOME=/opt/spark","empty_layer":true}],"os":"linux","rootfs":{"diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"],"type":"layers"}}"#
        #expect(text == expected)
    }

    @Test func roundTripsAConfigFromAnotherTool() throws {
        let json = #"{"architecture":"arm64","os":"linux","variant":"v8","config":{"Env":["PATH=/bin"],"Cmd":["sh"],"Labels":{"a":"b"}},"rootfs":{"type":"layers","diff_ids":[]},"history":[{"created_by":"x","empty_layer":true}]}"#
        let config = try CanonicalJSON.decode(ImageConfig.self, from: Array(json.utf8))
        #expect(config.platform.description == "linux/arm64/v8")
        #expect(config.config?.cmd == ["sh"])
        #expect(config.config?.labels == ["a": "b"])
        let again = try CanonicalJSON.decode(ImageConfig.self, from: try CanonicalJSON.encode(config))
        #expect(again == config)
    }

    @Test func layerMediaTypesMapAcrossFormats() {
        #expect(ManifestFormat.oci.layerMediaType(equivalentTo: MediaType.dockerLayerGzip) == MediaType.ociLayerGzip)
        #expect(ManifestFormat.docker.layerMediaType(equivalentTo: MediaType.ociLayer) == MediaType.dockerLayer)
        #expect(ManifestFormat.docker.layerMediaType(equivalentTo: MediaType.ociLayerZstd) == MediaType.dockerLayerZstd)
    }
}
