import Archive
import Dockerfile
import Foundation
import OCI
import Spark
import Store
import Support

/// Layers (or an ADDed tar) unpacked into a temporary directory, so that COPY --from and ADD can
/// read them like a build context. Tar headers keep the authority on modes and owners; the
/// copy on disk is the caller's own and never reaches outside its directory (SafeUnpacker).
final class ExtractedTree {
    let directory: String
    private(set) var metadata: [String: TarEntry] = [:]
    private let unpacker: SafeUnpacker

    init(parent: String) throws {
        directory = "\(parent)/extract-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        unpacker = try SafeUnpacker(into: directory, options: UnpackOptions(ownership: .currentUser))
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    var context: BuildContext {
        var context = BuildContext(mounts: [ContextMount(contextPath: "", source: .directory(path: directory, excluding: []))])
        context.recordedMetadata = metadata
        context.isUnpacked = true
        return context
    }

    /// Applies a layer over what is there, honouring whiteouts; only paths under `prefixes`
    /// are written (an empty prefix takes everything). `name` stands for the archive in errors.
    func apply(layerAt path: String, name: String, keepingOnly prefixes: [String]) throws {
        do {
            try unpacker.unpack(path, name: name, including: { Self.isKept($0, prefixes: prefixes) }, observe: record)
        } catch let error as ArchiveError {
            throw BuildError(error.path.map { "\($0): \(error.message)" } ?? error.message, hint: error.hint)
        }
    }

    /// Gives the unpacked directories their final metadata; call once after the last layer.
    func finish() throws {
        try unpacker.finish()
    }

    private func record(_ event: UnpackEvent) {
        switch event {
        case .wrote(let entry):
            metadata[entry.path] = entry
        case .removed(let path):
            metadata = metadata.filter { $0.key != path && !$0.key.hasPrefix(path + "/") }
        case .skipped:
            break
        }
    }

    private static func isKept(_ relative: String, prefixes: [String]) -> Bool {
        relative.isEmpty || prefixes.contains { $0.isEmpty || relative == $0 || relative.hasPrefix($0 + "/") || $0.hasPrefix(relative + "/") }
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
            try tree.apply(layerAt: store.blobPath(layer.digest), name: "layer \(layer.digest)", keepingOnly: prefixes)
        }
        try tree.finish()
        return tree
    }

    /// A tar file from the context (ADD), unpacked; `contextPath` names it in errors.
    static func unpack(tarball path: String, identity: FileIdentity, contextPath: String, parent: String) throws -> ExtractedTree {
        // The archive must still be the file the planner looked at (not a symlink swapped in), and
        // is read through the descriptor that checked it, whatever happens to the path meanwhile.
        let fd = try identity.open(path)
        defer { close(fd) }
        let tree = try ExtractedTree(parent: parent)
        try tree.apply(layerAt: "/dev/fd/\(fd)", name: contextPath, keepingOnly: [""])
        try tree.finish()
        return tree
    }
}
