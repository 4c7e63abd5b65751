import Archive
import Dockerfile
import Foundation
import OCI
import Spark
import Store
import Support

/// Layers (or an ADDed tar) unpacked into a temporary directory, so that COPY --from and ADD can
/// read them like a build context. Tar headers keep the authority on modes and owners.
final class ExtractedTree {
    let directory: String
    private(set) var metadata: [String: TarEntry] = [:]

    init(parent: String) throws {
        directory = "\(parent)/extract-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    var context: BuildContext {
        var context = BuildContext(mounts: [ContextMount(contextPath: "", source: .directory(path: directory, excluding: []))])
        context.recordedMetadata = metadata
        context.isUnpacked = true
        return context
    }

    /// Applies layers in order, honouring whiteouts; only paths under `prefixes` are written
    /// (an empty prefix takes everything).
    func apply(layerAt path: String, keepingOnly prefixes: [String]) throws {
        let reader = try TarReader(path: path)
        while let entry = try reader.next() {
            let relative = ImagePath.relative(entry.path)
            guard !relative.isEmpty, Self.isSafe(entry.path) else { continue }
            guard prefixes.contains(where: { $0.isEmpty || relative == $0 || relative.hasPrefix($0 + "/") || $0.hasPrefix(relative + "/") }) else { continue }
            let name = (relative as NSString).lastPathComponent
            let parent = (relative as NSString).deletingLastPathComponent
            if name == ".wh..wh..opq" {
                removeChildren(of: parent)
                continue
            }
            if name.hasPrefix(".wh.") {
                remove(parent.isEmpty ? String(name.dropFirst(4)) : "\(parent)/\(name.dropFirst(4))")
                continue
            }
            try write(entry, at: relative, reader: reader)
        }
    }

    private func write(_ entry: TarEntry, at relative: String, reader: TarReader) throws {
        let target = "\(directory)/\(relative)"
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), !(isDirectory.boolValue && entry.kind == .directory) {
            remove(relative)
        }
        switch entry.kind {
        case .directory:
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        case .file:
            let sink = try FileSink(creating: target, mode: 0o600)
            try reader.readData { try sink.write($0) }
            try sink.finish()
        case .symlink(let link):
            guard symlink(link, target) == 0 else { throw BuildError("cannot unpack symlink \(relative): \(errnoDescription())") }
        case .special:
            // COPY --from of device files is out of scope; they are left out of the tree.
            return
        case .hardlink(let link):
            guard Self.isSafe(link), Glibc.link("\(directory)/\(ImagePath.relative(link))", target) == 0 else {
                throw BuildError("cannot unpack hard link \(relative) -> \(link)")
            }
        }
        metadata[relative] = entry
    }

    private func remove(_ relative: String) {
        try? FileManager.default.removeItem(atPath: "\(directory)/\(relative)")
        metadata = metadata.filter { $0.key != relative && !$0.key.hasPrefix(relative + "/") }
    }

    private func removeChildren(of relative: String) {
        let path = relative.isEmpty ? directory : "\(directory)/\(relative)"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            remove(relative.isEmpty ? name : "\(relative)/\(name)")
        }
    }

    /// Tar paths that would land outside the directory are skipped.
    private static func isSafe(_ path: String) -> Bool {
        !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
    }
}

extension ExtractedTree {
    /// The file system of an image, limited to what some COPY --from sources can reach.
    static func unpack(_ layers: [Descriptor], from store: Store, sources: [String]) throws -> ExtractedTree {
        let tree = try ExtractedTree(parent: "\(store.root)/ingest")
        let prefixes = sources.map { source -> String in
            let clean = ImagePath.relative(source)
            // A glob's fixed leading directories bound what it can match.
            let fixed = clean.split(separator: "/").prefix { !PathPattern.hasMeta(String($0)) }
            return fixed.joined(separator: "/")
        }
        for layer in layers {
            try tree.apply(layerAt: store.blobPath(layer.digest), keepingOnly: prefixes)
        }
        return tree
    }

    /// A tar file from the context (ADD), unpacked.
    static func unpack(tarball path: String, parent: String) throws -> ExtractedTree {
        let tree = try ExtractedTree(parent: parent)
        try tree.apply(layerAt: path, keepingOnly: [""])
        return tree
    }
}
