/// A path of the virtual build context and where its bytes come from.
///
/// A build context is a list of mounts. A path of the context is served by the **last**
/// mount whose `contextPath` is that path or one of its parent directories (`""` is the
/// root), so later mounts overlay earlier ones: a file mount at `kubernetes/dockerfiles/spark/entrypoint.sh`
/// replaces the distribution's file, and a directory mount at `python/pyspark` hides
/// whatever the root mount has below `python/pyspark`. Directories that only lead to a
/// mount (such as `kubernetes/dockerfiles` in a pip install) exist implicitly.
/// `resolve(_:in:)` implements this rule.
public struct ContextMount: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// A directory on disk. `excluding` lists paths relative to it (no wildcards) that
        /// the context leaves out, with everything below them.
        case directory(path: String, excluding: [String])
        /// A file on disk.
        case file(path: String)
        /// A file whose bytes are held in memory (our entrypoint, for example).
        case bytes([UInt8], mode: UInt32)
        /// A directory with nothing in it (the template of Spark's work-dir).
        case emptyDirectory(mode: UInt32)
    }

    /// Path in the context, relative, without leading or trailing `/`; `""` is the root.
    public var contextPath: String
    public var source: Source

    public init(contextPath: String, source: Source) {
        self.contextPath = contextPath
        self.source = source
    }

    /// Where a context path's bytes come from.
    public struct Resolved: Sendable, Equatable {
        /// The mount that serves the path.
        public var mount: ContextMount
        /// The path relative to the mount's `contextPath` (`""` for the mount itself).
        public var relativePath: String
        /// The path on disk, for `.directory` and `.file` mounts.
        public var diskPath: String?
    }

    /// Finds the mount that serves `contextPath`, or nil when no mount does or the path
    /// is excluded from the mount that would serve it. Implicit parent directories of
    /// mounts are not resolved here: a builder lists them from the mounts themselves.
    public static func resolve(_ contextPath: String, in mounts: [ContextMount]) -> Resolved? {
        let path = normalize(contextPath)
        for mount in mounts.reversed() {
            guard let relative = relativePath(of: path, under: mount.contextPath) else { continue }
            switch mount.source {
            case .directory(let root, let excluding):
                if excluding.contains(where: { relativePath(of: relative, under: $0) != nil }) { return nil }
                let disk = relative.isEmpty ? root : root + "/" + relative
                return Resolved(mount: mount, relativePath: relative, diskPath: disk)
            case .file(let file):
                return relative.isEmpty ? Resolved(mount: mount, relativePath: "", diskPath: file) : nil
            case .bytes, .emptyDirectory:
                return relative.isEmpty ? Resolved(mount: mount, relativePath: "", diskPath: nil) : nil
            }
        }
        return nil
    }

    /// `path` relative to `base` when `base` is `path` or one of its parent directories.
    static func relativePath(of path: String, under base: String) -> String? {
        if base.isEmpty { return path }
        if path == base { return "" }
        guard path.hasPrefix(base + "/") else { return nil }
        return String(path.dropFirst(base.count + 1))
    }

    static func normalize(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
