import Archive
import Dockerfile
import Foundation
import Spark
import Support

/// The files a COPY can see: a virtual tree laid out by mounts (the Spark distribution plus our
/// overlays), filtered by `.dockerignore`. Paths are relative to the context root, without "/".
struct BuildContext: Sendable {
    let mounts: [ContextMount]
    let ignore: DockerIgnore?
    /// Metadata recorded from tar headers (for extracted stages and archives), which wins over
    /// what the extracted copy on disk says.
    var recordedMetadata: [String: TarEntry] = [:]
    /// An unpacked image file system or archive (COPY --from, ADD of a tar): items keep their
    /// owners and symlinks are copied as they are, absolute or not. In a build context items
    /// become root's, as Docker makes them, and a symlink must stay inside the context.
    var isUnpacked = false

    init(mounts: [ContextMount], ignore: DockerIgnore? = nil) {
        self.mounts = mounts
        self.ignore = ignore
    }

    /// Reads `.dockerignore` at the context root, if there is one.
    static func readingIgnoreFile(mounts: [ContextMount]) -> BuildContext {
        var context = BuildContext(mounts: mounts)
        if let resolved = ContextMount.resolve(".dockerignore", in: mounts), let disk = resolved.diskPath,
           let text = try? String(contentsOfFile: disk, encoding: .utf8) {
            context = BuildContext(mounts: mounts, ignore: DockerIgnore(text))
        }
        return context
    }

    /// The item at `path`, or nil when the context has nothing there (or ignores it).
    func item(at path: String) throws(BuildError) -> SourceItem? {
        if !path.isEmpty, ignore?.excludes(path) == true { return nil }
        if let resolved = ContextMount.resolve(path, in: mounts) {
            switch resolved.mount.source {
            case .bytes(let bytes, let mode):
                return SourceItem(contextPath: path, kind: .file(size: Int64(bytes.count)), mode: mode, uid: 0, gid: 0,
                                  contents: .bytes(bytes), identity: "bytes:\(SHA256Hex.of(bytes))", hardlinkKey: nil)
            case .emptyDirectory(let mode):
                return virtualDirectory(path, mode: mode)
            case .directory, .file:
                if let disk = resolved.diskPath, exists(disk) {
                    return try adjusted(SourceItem.fromDisk(disk, contextPath: path))
                }
            }
        }
        return leadsToMount(path) ? virtualDirectory(path, mode: 0o755) : nil
    }

    /// Names in the directory at `path`, sorted bytewise.
    func children(of path: String) throws(BuildError) -> [String] {
        var names = Set<String>()
        if let resolved = ContextMount.resolve(path, in: mounts), let disk = resolved.diskPath {
            if case .directory = resolved.mount.source, let listing = try? FileManager.default.contentsOfDirectory(atPath: disk) {
                names.formUnion(listing)
            }
        }
        let prefix = path.isEmpty ? "" : path + "/"
        for mount in mounts where mount.contextPath.hasPrefix(prefix) && mount.contextPath.count > prefix.count {
            names.insert(String(mount.contextPath.dropFirst(prefix.count).split(separator: "/")[0]))
        }
        var visible: [String] = []
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) where try item(at: prefix + name) != nil {
            visible.append(name)
        }
        return visible
    }

    /// Where the context's root comes from, for error messages.
    var rootDescription: String {
        for mount in mounts where mount.contextPath.isEmpty {
            if case .directory(let path, _) = mount.source { return path }
        }
        return "the build context"
    }

    private func adjusted(_ item: SourceItem) -> SourceItem {
        var item = item
        if let recorded = recordedMetadata[item.contextPath] {
            item.mode = recorded.mode
            item.uid = recorded.uid
            item.gid = recorded.gid
        } else if !isUnpacked {
            item.uid = 0
            item.gid = 0
        }
        return item
    }

    private func virtualDirectory(_ path: String, mode: UInt32) -> SourceItem {
        SourceItem(contextPath: path, kind: .directory, mode: mode, uid: 0, gid: 0, contents: .none,
                   identity: "virtual-directory", hardlinkKey: nil)
    }

    private func leadsToMount(_ path: String) -> Bool {
        path.isEmpty ? !mounts.isEmpty : mounts.contains { $0.contextPath.hasPrefix(path + "/") }
    }

    private func exists(_ disk: String) -> Bool {
        var info = stat()
        return lstat(disk, &info) == 0
    }
}
