import Crypto

/// Cuts a large COPY into several layers by a rule that survives additions: on the sorted
/// files, a group ends after each file whose name hashes to 0 modulo `spread`. Adding, removing
/// or changing a jar then changes only its own group (or splits it in two), so a rebuild
/// compresses and uploads one small layer instead of all the jars, and nodes pull the groups in
/// parallel. Directories, links, files hard-linked to each other and the files of small COPYs
/// stay in one layer.
///
/// A COPY of many files (a root file system) would make hundreds of groups, and Docker refuses
/// images of more than 125 layers: the spread doubles until about `maxGroups` groups are
/// expected. Doubling keeps the boundaries a subset of the smaller spread's, and the spread
/// changes only when the file count crosses a power of two.
struct LayerSplitter: Sendable {
    /// COPYs smaller than this stay one layer.
    var threshold: Int64
    /// Files per group, on average, at least.
    var spread: UInt64 = 16
    var maxGroups = 32

    func split(_ entries: [LayerEntry]) -> [[LayerEntry]] {
        let total = entries.reduce(Int64(0)) { $0 + $1.item.sizeInLayer }
        guard total >= threshold else { return [entries] }
        let shared = Self.sharedHardlinkKeys(entries)
        let isSplittable = { (entry: LayerEntry) in Self.isFile(entry) && !shared.contains(entry.item.hardlinkKey ?? "") }
        let files = entries.filter(isSplittable)
        var spread = spread
        while files.count / Int(spread) > maxGroups { spread *= 2 }
        var groups: [[LayerEntry]] = [entries.filter { !isSplittable($0) }]
        var current: [LayerEntry] = []
        for entry in files {
            current.append(entry)
            if Self.nameHash(entry.imagePath) % spread == 0 {
                groups.append(current)
                current = []
            }
        }
        if !current.isEmpty { groups.append(current) }
        return groups.filter { !$0.isEmpty }
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
