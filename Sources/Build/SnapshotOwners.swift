import Archive
import Foundation
import OCI
import Runtime
import Store

extension SubordinateOwners {
    /// A rootless snapshot, unpacked as the caller's own files, gets the owners its layer
    /// names (through the user namespace), once: `<snapshot>.owners` says it is done. Without
    /// this every base file would be root's inside a rootless RUN, and a USER such as 185 could
    /// not write to its own directories.
    func own(snapshot: String, of layer: Descriptor, store: Store) throws {
        let marker = snapshot + ".owners"
        guard !FileManager.default.fileExists(atPath: marker) else { return }
        var entries: [String: Entry] = [:]
        let reader = try TarReader(path: store.blobPath(layer.digest))
        while let entry = try reader.next() {
            let name = entry.path.split(separator: "/").last ?? ""
            switch entry.kind {
            case .hardlink: continue
            case _ where name.hasPrefix(".wh."): continue
            case .symlink: entries[entry.path] = Entry(path: entry.path, uid: entry.uid, gid: entry.gid, mode: entry.mode, isSymlink: true)
            default: entries[entry.path] = Entry(path: entry.path, uid: entry.uid, gid: entry.gid, mode: entry.mode)
            }
        }
        let scratch = "\(store.root)/ingest/owners-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try apply(entries.values.sorted { $0.path < $1.path }, in: snapshot, scratch: scratch)
        guard FileManager.default.createFile(atPath: marker, contents: Data()) else {
            throw BuildError("cannot write \(marker)")
        }
    }
}
