import Archive
import Foundation
import OCI
import Support

public enum ExportFormat: String, CaseIterable, Sendable {
    /// An OCI image layout in a tar, as skopeo's `oci-archive:` reads it.
    case ociArchive = "oci-archive"
    /// What `docker load` reads: `manifest.json` next to the blobs. The archive is also a valid
    /// OCI layout, as Docker 25's own `docker save` output is.
    case dockerArchive = "docker-archive"
}

/// One image in a docker-archive's `manifest.json`.
public struct DockerArchiveManifest: Codable, Sendable {
    public var config: String
    public var repoTags: [String]?
    public var layers: [String]

    public init(config: String, repoTags: [String]?, layers: [String]) {
        self.config = config
        self.repoTags = repoTags
        self.layers = layers
    }

    enum CodingKeys: String, CodingKey {
        case config = "Config", repoTags = "RepoTags", layers = "Layers"
    }
}

extension Store {
    /// Writes the named images into one archive at `path`. The file appears only when complete.
    public func export(_ references: [ImageReference], format: ExportFormat, to path: String,
                       platform: Platform = .host) throws(StoreError) {
        let temporary = "\(path).\(UUID().uuidString).partial"
        do {
            try export(references, format: format, into: try FileSink(creating: temporary), platform: platform)
            guard rename(temporary, path) == 0 else {
                throw StoreError.io(path, "cannot rename into place: \(errnoDescription())")
            }
        } catch {
            unlink(temporary)
            if let storeError = error as? StoreError { throw storeError }
            throw .io(path, "\(error)")
        }
    }

    /// Streams the archive into `sink`. `omitting` leaves those blobs' files out while
    /// manifest.json still lists them: Docker's classic image store does not open a layer file
    /// whose chain it already has, which makes this a delta load.
    public func export(_ references: [ImageReference], format: ExportFormat, into sink: any ByteSink,
                       platform: Platform = .host, omitting: Set<Digest> = []) throws(StoreError) {
        var descriptors: [Descriptor] = []
        var blobs: [Digest: Descriptor] = [:]
        var dockerManifests: [DockerArchiveManifest] = []
        for reference in references {
            guard var descriptor = try resolve(reference) else { throw .notFound(reference.description) }
            if format == .dockerArchive {
                descriptor = try image(descriptor, platform: platform).manifestDescriptor
                let manifest = try readJSON(ImageManifest.self, descriptor.digest)
                dockerManifests.append(DockerArchiveManifest(
                    config: Self.archivePath(manifest.config.digest), repoTags: [reference.familiarDescription],
                    layers: manifest.layers.map { Self.archivePath($0.digest) }))
            }
            descriptor.annotations = [Annotation.refName: reference.description, Annotation.containerdImageName: reference.description]
            descriptors.append(descriptor)
            for blob in try reachableBlobs(from: descriptor) { blobs[blob.digest] = blob }
        }
        var metadata: [(String, [UInt8])] = []
        do {
            metadata.append(("oci-layout", try CanonicalJSON.encode(ImageLayoutMarker())))
            metadata.append(("index.json", try CanonicalJSON.encode(ImageIndex(manifests: descriptors))))
            if format == .dockerArchive { metadata.append(("manifest.json", try CanonicalJSON.encode(dockerManifests))) }
        } catch { throw .io("archive", "cannot encode the archive's index: \(error)") }
        try writeArchive(into: sink, metadata: metadata, blobs: blobs.keys.sorted().filter { !omitting.contains($0) })
    }

    /// Where a blob sits inside a layout or archive.
    public static func archivePath(_ digest: Digest) -> String { "blobs/\(digest.algorithm)/\(digest.encoded)" }

    private func writeArchive(into sink: any ByteSink, metadata: [(String, [UInt8])], blobs: [Digest]) throws(StoreError) {
        do {
            let tar = try TarWriter(sink: sink)
            for (name, bytes) in metadata {
                try tar.append(TarEntry(path: name, kind: .file(size: Int64(bytes.count)), mode: 0o644), contents: .bytes(bytes))
            }
            for dir in ["blobs", "blobs/sha256"] { try tar.append(TarEntry(path: dir, kind: .directory, mode: 0o755)) }
            for digest in blobs {
                guard hasBlob(digest) else { throw StoreError.missingBlob(digest) }
                try tar.append(TarEntry(path: Self.archivePath(digest), kind: .file(size: try blobSize(digest)), mode: 0o644),
                               contents: .file(path: blobPath(digest)))
            }
            try tar.finish()
        } catch let error as StoreError {
            throw error
        } catch {
            throw .io("archive", "\(error)")
        }
    }
}
