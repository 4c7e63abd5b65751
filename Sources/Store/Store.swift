import Archive
import Foundation
import OCI
import Support

/// The local image store: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`).
/// Blobs are written under a temporary name in `ingest/` and renamed to their digest only once
/// the content is complete and hashed, so a killed process never leaves a corrupt blob behind.
public struct Store: Sendable {
    public let root: String
    /// The writers' lock this copy holds, if any (see `holdingWriterLock`).
    var lease: StoreLease?

    /// Opens the layout at `root`, creating it if the directory is empty or missing.
    public init(root: String) throws(StoreError) {
        self.root = root
        let marker = "\(root)/oci-layout"
        if FileManager.default.fileExists(atPath: marker) {
            guard let data = FileManager.default.contents(atPath: marker),
                  let layout = try? CanonicalJSON.decode(ImageLayoutMarker.self, from: data),
                  layout.imageLayoutVersion.hasPrefix("1.") else {
                throw .notALayout(root, reason: "oci-layout is unreadable or not version 1.x")
            }
        } else {
            try create()
        }
    }

    public static var defaultRoot: String {
        let env = ProcessInfo.processInfo.environment
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let cache = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.cache"
        return "\(cache)/spark-image-tool/store"
    }

    /// Where a blob sits inside a layout or archive.
    public static func archivePath(_ digest: Digest) -> String { "blobs/\(digest.algorithm)/\(digest.encoded)" }

    public func blobPath(_ digest: Digest) -> String { "\(root)/\(Self.archivePath(digest))" }

    public func hasBlob(_ digest: Digest) -> Bool { FileManager.default.fileExists(atPath: blobPath(digest)) }

    public func blobSize(_ digest: Digest) throws(StoreError) -> Int64 {
        var info = stat()
        guard stat(blobPath(digest), &info) == 0 else { throw .missingBlob(digest) }
        return Int64(info.st_size)
    }

    /// Stores `bytes` (a manifest, config or index) and returns its digest.
    @discardableResult
    public func putBlob(_ bytes: [UInt8]) throws(StoreError) -> Digest {
        try ingest { path in
            let sink = HashingSink(next: try FileSink(creating: path))
            try sink.write(bytes)
            try sink.finish()
            return Digest(sha256Hex: sink.digestHex!)
        }
    }

    /// Stores a document (config, manifest, index) as canonical JSON; returns its descriptor.
    public func putJSON(_ value: some Encodable, mediaType: String) throws(StoreError) -> Descriptor {
        let bytes: [UInt8]
        do { bytes = try CanonicalJSON.encode(value) } catch { throw .io(root, "cannot encode \(mediaType): \(error)") }
        return Descriptor(mediaType: mediaType, digest: try putBlob(bytes), size: Int64(bytes.count))
    }

    /// Reads a small blob and checks that it hashes to its digest.
    public func readBlob(_ digest: Digest) throws(StoreError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: blobPath(digest)) else { throw .missingBlob(digest) }
        let bytes = [UInt8](data)
        let sink = HashingSink(next: NullSink())
        do {
            try sink.write(bytes)
            try sink.finish()
        } catch { throw .io(blobPath(digest), "\(error)") }
        guard Digest(sha256Hex: sink.digestHex!) == digest else {
            throw .corruptBlob(digest, reason: "its content hashes to sha256:\(sink.digestHex!)")
        }
        return bytes
    }

    public func readJSON<T: Decodable>(_ type: T.Type, _ digest: Digest) throws(StoreError) -> T {
        let bytes = try readBlob(digest)
        do { return try CanonicalJSON.decode(type, from: bytes) } catch {
            throw .corruptBlob(digest, reason: "not a valid \(type): \(error)")
        }
    }

    /// Writes a blob through `write`, which receives a fresh temporary path and returns the digest
    /// of what it wrote there. The file is then renamed to that digest; if the store already has
    /// the blob, the temporary file is dropped.
    public func ingest(_ write: (String) throws -> Digest) throws(StoreError) -> Digest {
        let temporary = "\(root)/ingest/\(UUID().uuidString)"
        do {
            let digest = try write(temporary)
            try commit(temporary, as: digest)
            return digest
        } catch {
            unlink(temporary)
            if let storeError = error as? StoreError { throw storeError }
            throw .io(temporary, "\(error)")
        }
    }

    /// Streams a blob whose digest is known in advance (from a manifest) into the store, and
    /// refuses it if the bytes do not match.
    public func ingest(expected: Digest, source: String, _ write: (any ByteSink) throws -> Void) throws(StoreError) {
        _ = try ingest { path in
            let sink = HashingSink(next: try FileSink(creating: path))
            try write(sink)
            try sink.finish()
            let actual = Digest(sha256Hex: sink.digestHex!)
            guard actual == expected else { throw StoreError.digestMismatch(expected: expected, actual: actual, source: source) }
            return actual
        }
    }

    /// Renames a complete, hashed file to its digest. An existing blob that still hashes to its
    /// digest is kept (the copy is dropped, nothing is synced); one that rotted is replaced by
    /// the copy, which was verified just now.
    private func commit(_ temporary: String, as digest: Digest) throws {
        let final = blobPath(digest)
        if hasBlob(digest), (try? verifyBlob(digest)) != nil {
            unlink(temporary)
            return
        }
        try Self.sync(temporary)
        guard rename(temporary, final) == 0 else {
            throw StoreError.io(final, "cannot rename blob into place: \(errnoDescription())")
        }
    }

    /// Flushes a file's data to disk before it is renamed to a name others trust, so a crash
    /// cannot leave a final name on a file with holes.
    static func sync(_ path: String) throws(StoreError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path, "cannot open to sync: \(errnoDescription())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(path, "cannot sync to disk: \(errnoDescription())") }
    }

    private func create() throws(StoreError) {
        do {
            for dir in ["blobs/sha256", "ingest", "cache"] {
                try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
            }
            try writeAtomically(CanonicalJSON.encode(ImageIndex(mediaType: MediaType.ociIndex, manifests: [])), to: "\(root)/index.json")
            try writeAtomically(CanonicalJSON.encode(ImageLayoutMarker()), to: "\(root)/oci-layout")
        } catch let error as StoreError {
            throw error
        } catch {
            throw .io(root, "cannot create the image store: \(error)")
        }
    }

    /// Replaces a small file by writing a synced sibling and renaming it over the original.
    func writeAtomically(_ bytes: [UInt8], to path: String) throws(StoreError) {
        do { try AtomicFile.replace(path, with: bytes, mode: 0o644) } catch { throw .io(path, error.message) }
    }
}
