/// An overlayfs mount for a rootfs: read-only lower directories, topmost first, and a fresh
/// upper directory that collects what the process changes.
public struct OverlayMount: Sendable, Equatable {
    public var lowerDirs: [String]
    public var upperDir: String
    /// Overlayfs's scratch directory, on the same file system as `upperDir`.
    public var workDir: String
    public var mergedDir: String

    public init(lowerDirs: [String], upperDir: String, workDir: String, mergedDir: String) {
        self.lowerDirs = lowerDirs
        self.upperDir = upperDir
        self.workDir = workDir
        self.mergedDir = mergedDir
    }

    /// The `-o` value. No index, no metacopy (an upper file must hold its data) and no
    /// redirects (a renamed directory is copied up whole), so the upper directory alone is the
    /// diff. In a user namespace overlayfs keeps its xattrs under `user.` (`userxattr`).
    public func options(inUserNamespace: Bool) throws(RuntimeError) -> String {
        guard !lowerDirs.isEmpty else {
            throw RuntimeError("an overlay needs at least one lower directory", hint: "mount an empty directory as the lowest layer")
        }
        for path in lowerDirs + [upperDir, workDir] where !path.hasPrefix("/") || path.contains(where: { ",:\\".contains($0) }) {
            throw RuntimeError(
                "overlay directory \(path) is not absolute or contains ',', ':' or '\\'",
                hint: "use a store path without these characters")
        }
        var options = [
            "lowerdir=" + distinctLowerDirs.joined(separator: ":"), "upperdir=" + upperDir, "workdir=" + workDir,
            "index=off", "metacopy=off", "redirect_dir=nofollow",
        ]
        if inUserNamespace { options.append("userxattr") }
        return options.joined(separator: ",")
    }

    /// Each directory once, at its topmost place: layers with the same diff_id (RUNs that changed
    /// the same nothing) share a snapshot, overlayfs refuses a directory twice (ELOOP), and the
    /// topmost copy hides every path of the deeper ones anyway.
    private var distinctLowerDirs: [String] {
        var seen = Set<String>()
        return lowerDirs.filter { seen.insert($0).inserted }
    }
}
