import Archive
import Foundation
import OCI
import Store

/// `oci-layout:DIR[:tag]`: an OCI image layout directory, read in place (nothing is created in it).
public struct OCILayoutSource: ImageSource {
    public let directory: String
    public let tag: String?

    public init(directory: String, tag: String?) {
        self.directory = directory
        self.tag = tag
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
        for blob in [manifest.config] + manifest.layers where !store.hasBlob(blob.digest) {
            try store.ingest(expected: blob.digest, source: "\(directory)/\(Store.archivePath(blob.digest))") { sink in
                try RawFileReader(path: "\(directory)/\(Store.archivePath(blob.digest))").forEachChunk { try sink.write($0) }
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
