import Archive
import Foundation
import OCI
import Store

/// `oci-layout:DIR[:tag]`: an OCI image layout directory, read in place (nothing is created in it).
public struct OCILayoutSource: ImageSource {
    public let directory: String
    public let tag: String?
    /// Gets the blob bytes read so far.
    public let progress: (@Sendable (Int64) -> Void)?

    public init(directory: String, tag: String?, progress: (@Sendable (Int64) -> Void)? = nil) {
        self.directory = directory
        self.tag = tag
        self.progress = progress
    }

    public func importImage(into store: Store, platform: Platform) throws -> SourcedImage {
        let origin = "oci-layout:\(directory)"
        let blobs = VerifiedBlobs(origin: origin) { digest in Self.smallFile("\(directory)/\(Store.archivePath(digest))") }
        guard let indexBytes = Self.smallFile("\(directory)/index.json"),
              let index = try? CanonicalJSON.decode(ImageIndex.self, from: indexBytes) else {
            throw ImageFormatError("\(origin) is not an OCI image layout: it has no readable index.json",
                                   hint: "give the directory that holds oci-layout, index.json and blobs/")
        }
        let (manifest, config) = try blobs.image(try pick(from: index, tag: tag, origin: origin), platform: platform)
        let read = ReadProgress(progress)
        for blob in [manifest.config] + manifest.layers where !store.hasBlob(blob.digest) {
            try store.ingest(expected: blob.digest, source: "\(directory)/\(Store.archivePath(blob.digest))") { sink in
                try RawFileReader(path: "\(directory)/\(Store.archivePath(blob.digest))").forEachChunk { chunk in
                    try sink.write(chunk)
                    read.add(chunk.count)
                }
            }
        }
        return SourcedImage(config: config, layers: manifest.layers, description: origin)
    }

    /// Indexes, manifests and configs are small; anything over 4 MiB is not one (containerd's limit).
    private static func smallFile(_ path: String) -> [UInt8]? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_size <= ArchiveContents.smallFileLimit else { return nil }
        return FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }
}
