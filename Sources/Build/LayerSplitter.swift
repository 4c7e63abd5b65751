import Crypto

/// Cuts a large COPY into a few layers of similar size by a rule that survives additions, so
/// that a changed jar re-sends one group, not the whole COPY, while a fresh node pulls no more
/// layers than it must: every layer costs a daemon a fixed price (dockerd spawns an unpacker
/// and writes its metadata, containerd mounts and commits a snapshot), measured in
/// docs/layer-split.md.
///
/// On the sorted files, a group ends after a file whose name hashes below a chance that grows
/// with the file's size, once the group holds half the target; and before a file that would take
/// it past 1.25 times the target. Groups then hold about `total / groups` bytes and no more than
/// 1.25 times that (unless one file is bigger). Adding, removing or changing a jar changes its own group (or,
/// rarely, the next one too); a changed file keeps its group unless its size changes a lot. The first
/// group also holds the directories, links and files hard-linked to each other in the COPY.
struct LayerSplitter: Sendable {
    /// COPYs smaller than this stay one layer.
    var threshold: Int64
    /// The group count aimed at. Spark 4.3's jars make 10 groups, each at most 15 % of the jars
    /// (docs/layer-split.md).
    var groups: Int64 = 8

    func split(_ entries: [LayerEntry]) -> [[LayerEntry]] {
        let total = entries.reduce(Int64(0)) { $0 + $1.item.sizeInLayer }
        guard total >= threshold else { return [entries] }
        let shared = Self.sharedHardlinkKeys(entries)
        let isSplittable = { (entry: LayerEntry) in Self.isFile(entry) && !shared.contains(entry.item.hardlinkKey ?? "") }
        let files = entries.filter(isSplittable)
        let target = max(files.reduce(Int64(0)) { $0 + $1.item.sizeInLayer } / groups, 2)
        let (minimum, maximum) = (target / 2, target + target / 4)
        var result: [[LayerEntry]] = []
        var current = entries.filter { !isSplittable($0) }
        var bytes: Int64 = 0
        for entry in files {
            let size = entry.item.sizeInLayer
            if bytes > 0, bytes + size > maximum {
                result.append(current)
                (current, bytes) = ([], 0)
            }
            current.append(entry)
            bytes += size
            if bytes >= minimum, Double(Self.nameHash(entry.imagePath)) < Double(size) / Double(target - minimum) * 0x1p64 {
                result.append(current)
                (current, bytes) = ([], 0)
            }
        }
        result.append(current)
        return result.filter { !$0.isEmpty }
    }

    private static func isFile(_ entry: LayerEntry) -> Bool {
        if case .file = entry.item.kind { return true }
        return false
    }

    /// Files hard-linked to each other in the COPY stay in one layer, where the tar can link
    /// them; a file whose other links are outside the COPY (a `cp -al` copy of a release) is
    /// written as a plain file and can go anywhere.
    private static func sharedHardlinkKeys(_ entries: [LayerEntry]) -> Set<String> {
        var counts: [String: Int] = [:]
        for entry in entries { if let key = entry.item.hardlinkKey { counts[key, default: 0] += 1 } }
        return Set(counts.filter { $0.value > 1 }.keys)
    }

    /// The file's name only, so a file keeps its group when its content or directory changes.
    private static func nameHash(_ path: String) -> UInt64 {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return SHA256.hash(data: Array(name.utf8)).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
