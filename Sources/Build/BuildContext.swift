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
    static func readingIgnoreFile(mounts: [ContextMount]) throws(DockerfileError) -> BuildContext {
        var context = BuildContext(mounts: mounts)
        if let resolved = ContextMount.resolve(".dockerignore", in: mounts), let disk = resolved.diskPath,
           let text = try? String(contentsOfFile: disk, encoding: .utf8) {
            context = BuildContext(mounts: mounts, ignore: try DockerIgnore(text, file: disk))
        }
        return context
    }

    /// The item at `path`, or nil when the context has nothing there (or ignores it).
    func item(at path: String) throws(BuildError) -> SourceItem? {
        if !path.isEmpty, ignore?.excludes(path) == true { return nil }
        let physical = try physicalPath(path, includingLast: false)
        if physical != path {
            var item = try item(at: physical)
            item?.contextPath = path
            return item
        }
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
        if let resolved = ContextMount.resolve(try physicalPath(path, includingLast: true), in: mounts), let disk = resolved.diskPath {
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

    /// `path` with every symlinked directory on the way replaced by where it points in the
    /// context, so that nothing is ever read through a symlink: one that leaves a build context
    /// is refused, and in an unpacked image one resolves inside the image, as in a chroot.
    /// The root of each mount is taken as it is.
    func physicalPath(_ path: String, includingLast: Bool) throws(BuildError) -> String {
        var components = path.split(separator: "/").map(String.init)
        var index = 0
        var hops = 0
        while index < components.count - (includingLast ? 0 : 1) {
            let prefix = components[...index].joined(separator: "/")
            guard let target = symlinkBelowMountRoot(prefix) else {
                index += 1
                continue
            }
            hops += 1
            guard hops <= 40 else { throw BuildError("too many levels of symlinks in '\(path)' in \(rootDescription)") }
            components = try resolveLink(target, from: prefix).split(separator: "/").map(String.init) + components[(index + 1)...]
            index = 0
        }
        return components.joined(separator: "/")
    }

    /// Where a symlink at `linkPath` points, as a context path.
    func resolveLink(_ target: String, from linkPath: String) throws(BuildError) -> String {
        guard isUnpacked else { return try CopyPlanner.resolveLink(target, from: linkPath, root: rootDescription) }
        let parent = target.hasPrefix("/") ? "" : linkPath.split(separator: "/").dropLast().joined(separator: "/")
        return ImagePath.relative(parent + "/" + target)
    }

    /// The target of the symlink at context path `path`, when a directory mount has one there.
    private func symlinkBelowMountRoot(_ path: String) -> String? {
        guard let resolved = ContextMount.resolve(path, in: mounts), case .directory = resolved.mount.source,
              !resolved.relativePath.isEmpty, let disk = resolved.diskPath else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(disk, &buffer, buffer.count - 1)
        guard length >= 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
