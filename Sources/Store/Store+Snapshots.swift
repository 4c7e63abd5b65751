import Archive
import Foundation
import OCI
import Support

/// How snapshots are unpacked for the overlay that will use them as lower directories.
public enum SnapshotMode: Sendable, Equatable {
    /// Owners and devices as the layer says; opaque directories marked `trusted.overlay.opaque`.
    case root
    /// Everything the caller's own (it becomes root in the user namespace); opaque directories
    /// marked `user.overlay.opaque`, which overlayfs reads with `userxattr`.
    case rootless

    var unpackOptions: UnpackOptions {
        switch self {
        case .root: UnpackOptions(whiteouts: .overlay(opaqueXattr: "trusted.overlay.opaque"), ownership: .preserve, allowDevices: true)
        case .rootless: UnpackOptions(whiteouts: .overlay(opaqueXattr: "user.overlay.opaque"), ownership: .currentUser)
        }
    }
}

extension Store {
    /// Snapshots: each layer unpacked once, as containerd's overlayfs snapshotter keeps them,
    /// at `snapshots/<diff_id hex>`, for every later RUN to mount as a lower directory.
    /// Absolute, as overlayfs's options must be, even for a store named by a relative path.
    public var snapshotsDirectory: String { URL(fileURLWithPath: root).standardizedFileURL.path + "/snapshots" }

    public func snapshotPath(_ diffID: Digest) -> String { "\(snapshotsDirectory)/\(diffID.encoded)" }

    /// The snapshot of `layer`, whose tar must hash to `diffID`: made now if missing, under a
    /// temporary name in ingest/ that is renamed only when complete and checked, so a killed
    /// build leaves no half snapshot under its final name (gc clears ingest/). The tar is hashed
    /// in the pass that unpacks it: a layer is inflated once. `progress` gets the file bytes
    /// written so far.
    public func snapshot(of layer: Descriptor, diffID: Digest, mode: SnapshotMode, progress: ((Int64) -> Void)? = nil) throws -> String {
        let final = snapshotPath(diffID)
        if FileManager.default.fileExists(atPath: final) { return final }
        let temporary = "\(root)/ingest/snapshot-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let unpacker = try SafeUnpacker(into: temporary, options: mode.unpackOptions)
            let reader = try TarReader(path: blobPath(layer.digest), hashingStream: true)
            var written: Int64 = 0
            try unpacker.unpack(reader, name: "layer \(layer.digest)", observe: { event in
                if case .wrote(let entry) = event, let progress { written += entry.size; progress(written) }
            })
            try checkDiffID(try reader.streamDigestHex(), of: layer.digest, expected: diffID)
            try unpacker.finish()
            try FileManager.default.createDirectory(atPath: snapshotsDirectory, withIntermediateDirectories: true)
            // Another build may have made the same snapshot meanwhile: theirs is as good as ours.
            if rename(temporary, final) != 0 {
                guard errno == EEXIST || errno == ENOTEMPTY else { throw StoreError.io(final, "cannot rename snapshot: \(errnoDescription())") }
                Self.removeTree(temporary)
            }
        } catch {
            Self.removeTree(temporary)
            throw error
        }
        return final
    }

    /// The uncompressed tar is what the diff_id names; a config that lies about it must not
    /// give its layer another layer's snapshot.
    private func checkDiffID(_ actualHex: String, of digest: Digest, expected: Digest) throws {
        guard actualHex == expected.encoded else {
            throw StoreError.digestMismatch(expected: expected, actual: Digest(sha256Hex: actualHex), source: "the diff_id of layer \(digest)")
        }
    }

    /// Removes the snapshots of diff_ids in no image under `live`; called by gc, which holds the store.
    func pruneSnapshots(keeping live: Set<String>) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: snapshotsDirectory)) ?? [] where !live.contains(name) {
            Self.removeTree("\(snapshotsDirectory)/\(name)")
        }
    }

    /// The diff_ids (hex) of every image a tag reaches.
    func taggedDiffIDs() throws(StoreError) -> Set<String> {
        var live = Set<String>()
        for tagged in try tags() {
            for blob in try reachableBlobs(from: tagged.descriptor) where [MediaType.ociConfig, MediaType.dockerConfig].contains(blob.mediaType) {
                for diffID in try readJSON(ImageConfig.self, blob.digest).rootfs.diffIDs { live.insert(diffID.encoded) }
            }
        }
        return live
    }

    /// Snapshots may hold directories without write permission (as the image has them).
    static func removeTree(_ path: String) {
        if let enumerator = FileManager.default.enumerator(atPath: path) {
            for case let child as String in enumerator {
                var info = stat()
                if lstat("\(path)/\(child)", &info) == 0, info.st_mode & S_IFMT == S_IFDIR { chmod("\(path)/\(child)", 0o700) }
            }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}
