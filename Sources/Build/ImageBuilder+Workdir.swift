import Dockerfile
import Foundation
import Support

extension StageRun {
    /// WORKDIR as BuildKit does it (dockerfile2llb's dispatchWorkdir: `Mkdir(wd, 0755,
    /// WithParents, WithUser(USER))`): the directories missing on the way are made in a layer of
    /// their own, 0755 and owned by the USER in effect at the WORKDIR, resolved like `COPY
    /// --chown`. A directory the image has already is left alone and costs no layer.
    mutating func buildWorkdir(_ path: String, createdBy: String, image: inout ImageAssembler, directories: inout DirectoryIndex) throws {
        let missing = Self.missingDirectories(of: path, in: directories)
        guard !missing.isEmpty else {
            image.apply(.workdir(path), createdBy: createdBy)
            return
        }
        let user = image.config.config?.user.flatMap { $0.isEmpty ? nil : $0 }
        let owner = try copyOwner(user, layers: image.layers, what: "WORKDIR \(path) as USER \(user ?? "")") ?? (uid: 0, gid: 0)
        let made = missing.map { directory in
            LayerEntry(imagePath: directory, item: SourceItem(
                contextPath: directory, kind: .directory, mode: 0o755, uid: owner.uid, gid: owner.gid,
                contents: .none, identity: "workdir", hardlinkKey: nil))
        }
        let entries = directories.completingParents(of: made)
        layerCount += 1
        let built = try LayerBuilder(store: builder.store, settings: builder.settings, events: builder.events)
            .build(entries, description: createdBy, id: layerCount)
        try DirectoryIndex.remember(entries, digest: built.layer.digest, store: builder.store)
        directories.add(entries)
        image.apply(.workdir(path), createdBy: createdBy, layer: built.layer,
                    mediaType: request.format.layerMediaType(for: builder.settings.compression))
        if built.cached { cachedLayers += 1 } else { newLayers += 1 }
    }

    /// The image paths (relative) of the directories `path` needs, parents first; nothing past a
    /// symlink, which the runtime follows inside the image.
    static func missingDirectories(of path: String, in directories: DirectoryIndex) -> [String] {
        var missing: [String] = []
        var prefix = ""
        for component in ImagePath.relative(path).split(separator: "/") {
            prefix = ImagePath.join(prefix, String(component))
            if !missing.isEmpty {
                missing.append(prefix)
                continue
            }
            guard let info = directories.info(at: prefix) else {
                missing.append(prefix)
                continue
            }
            if info.isSymlink { break }
        }
        return missing
    }
}
