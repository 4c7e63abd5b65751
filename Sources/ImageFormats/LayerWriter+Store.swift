import Archive
import OCI
import Store

extension LayerWriter {
    /// Imports a tarball of any compression as a layer blob of the store.
    public static func importTarball(at path: String, into store: Store, compression: StreamCompression,
                                     progress: ((Int64) -> Void)? = nil) throws -> LayerDigests {
        var digests: LayerDigests?
        _ = try store.ingest { temporary in
            digests = try LayerWriter.importTarball(at: path, outputPath: temporary, compression: compression, progress: progress)
            return Digest(sha256Hex: digests!.digestHex)
        }
        return digests!
    }
}
