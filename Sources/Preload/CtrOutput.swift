import Foundation
import OCI

/// Reads what `ctr` prints (containerd 1.6's tables). Pure, so each table is tested as text.
enum CtrOutput {
    /// One row of `ctr images check`: `REF TYPE DIGEST STATUS SIZE UNPACKED`.
    struct CheckRow: Equatable, Sendable {
        var name: String
        var digest: Digest
        /// `complete (3/3)`, `incomplete (1/3)`.
        var status: String
        var unpacked: Bool

        var isReady: Bool { status.hasPrefix("complete") && unpacked }
    }

    static func check(_ text: String) -> [CheckRow] {
        rows(text).compactMap { columns in
            guard columns.count >= 6, let digest = try? Digest(parsing: columns[2]) else { return nil }
            // The status is two words (`complete (3/3)`); the unpacked flag is the last column.
            return CheckRow(name: columns[0], digest: digest, status: columns[3 ..< 5].joined(separator: " "),
                            unpacked: columns.last == "true")
        }
    }

    /// `ctr content ls -q`: one digest a line.
    static func contentDigests(_ text: String) -> Set<Digest> {
        Set(text.split(separator: "\n").compactMap { try? Digest(parsing: $0.trimmingCharacters(in: .whitespaces)) })
    }

    /// `ctr namespaces ls -q`: one name a line.
    static func namespaces(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    /// The platform of `snapshotter` in `ctr plugins ls` (`io.containerd.snapshotter.v1 overlayfs
    /// linux/amd64 ok`): the node's own platform, and proof the snapshotter is there and working.
    static func snapshotterPlatform(_ text: String, snapshotter: String) -> Platform? {
        for columns in rows(text) where columns.count >= 4
            && columns[0] == "io.containerd.snapshotter.v1" && columns[1] == snapshotter && columns[3] == "ok" {
            return try? Platform(parsing: columns[2])
        }
        return nil
    }

    /// The server's `UUID:` in `ctr version`: which containerd this is, whatever reaches it.
    static func serverUUID(_ text: String) -> String? {
        text.split(separator: "\n").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("UUID:") }.map { $0.dropFirst(5).trimmingCharacters(in: .whitespaces) }
    }

    /// The data rows of a table, split on runs of spaces (no column holds a space but labels and
    /// check's status, which the readers above account for).
    private static func rows(_ text: String) -> [[String]] {
        text.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
    }
}
