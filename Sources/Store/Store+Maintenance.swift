import Archive
import Foundation
import OCI

public struct GarbageCollection: Sendable, Equatable {
    public init(removedBlobs: Int, freedBytes: Int64) {
        self.removedBlobs = removedBlobs
        self.freedBytes = freedBytes
    }

    public var removedBlobs: Int
    public var freedBytes: Int64
}

extension Store {
    /// Removes blobs no tag reaches, stale temporary files, cache entries for removed blobs and
    /// snapshots of layers no tagged image has.
    /// Waits for running builds and pulls, whose blobs are not tagged yet, to finish.
    public func collectGarbage() throws(StoreError) -> GarbageCollection {
        try exclusively { () throws(StoreError) in try collectUnlocked() }
    }

    private func collectUnlocked() throws(StoreError) -> GarbageCollection {
        var live = Set<Digest>()
        for tagged in try tags() {
            for blob in try reachableBlobs(from: tagged.descriptor) { live.insert(blob.digest) }
        }
        var result = GarbageCollection(removedBlobs: 0, freedBytes: 0)
        for digest in try storedBlobDigests() where !live.contains(digest) {
            result.freedBytes += (try? blobSize(digest)) ?? 0
            if unlink(blobPath(digest)) == 0 { result.removedBlobs += 1 }
        }
        removeStaleIngestFiles()
        pruneCaches()
        pruneSnapshots(keeping: try taggedDiffIDs())
        return result
    }

    /// Rehashes every blob and checks that every tag reaches only blobs that exist.
    /// Returns the problems found; an empty list means the store is consistent.
    public func verify() throws(StoreError) -> [String] {
        var problems: [String] = []
        for digest in try storedBlobDigests() {
            do { try verifyBlob(digest) } catch { problems.append(error.description) }
        }
        for tagged in try tags() {
            do {
                for blob in try reachableBlobs(from: tagged.descriptor) where !hasBlob(blob.digest) {
                    problems.append("\(tagged.reference): missing blob \(blob.digest)")
                }
            } catch {
                problems.append("\(tagged.reference): \(error)")
            }
        }
        return problems
    }

    /// Hashes a blob file of any size as a stream.
    public func verifyBlob(_ digest: Digest) throws(StoreError) {
        let path = blobPath(digest)
        let sink = HashingSink(next: NullSink())
        do {
            let reader = try RawFileReader(path: path)
            try reader.forEachChunk { try sink.write($0) }
            try sink.finish()
        } catch { throw .io(path, "\(error)") }
        guard sink.digestHex == digest.encoded else {
            throw .corruptBlob(digest, reason: "its content hashes to sha256:\(sink.digestHex!)")
        }
    }

    func storedBlobDigests() throws(StoreError) -> [Digest] {
        let dir = "\(root)/blobs/sha256"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { throw .io(dir, "cannot list") }
        return names.compactMap { try? Digest(parsing: "sha256:\($0)") }.sorted()
    }

    /// Everything in ingest/ (files and staging directories) belongs to a command that was
    /// killed: gc holds the store to itself, so no writer is running.
    private func removeStaleIngestFiles() {
        let dir = "\(root)/ingest"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            Self.removeTree("\(dir)/\(name)")
        }
    }
}
