import Archive
import ImageFormats
import OCI
import Support

/// A docker-archive of one image whose layers the daemon holds, all but the top one: the config,
/// the top layer's file, and the others listed but left out (the daemon has their chain, so it
/// opens none of them). A patch goes this way, and so does the first load of a staged preload.
struct TopLayerArchive: Sendable {
    let config: [UInt8]
    /// The diff_ids under the top layer, which the daemon holds.
    let daemonLayers: [Digest]
    /// The top layer as a file, compressed or not (the daemon tells them apart).
    let layerPath: String
    /// The size of what the archive holds for it: the file's, or its tar's when `inflatedFrom` is set.
    let layerSize: Int64
    /// The gzip blob that `layerPath` is, sent as its tar: the daemon then starts no `unpigz`.
    var inflatedFrom: Digest? = nil

    var imageID: Digest { Digest(sha256Hex: SHA256Hex.of(config)) }

    func write(repoTags: [String], into sink: any ByteSink) throws {
        let layerNames = daemonLayers.map { "\($0.encoded)/layer.tar" } + ["top/layer.tar"]
        let manifest = try CanonicalJSON.encode([DockerArchiveManifest(config: "\(imageID.encoded).json", repoTags: repoTags, layers: layerNames)])
        let tar = try TarWriter(sink: sink)
        try tar.append(TarEntry(path: "manifest.json", kind: .file(size: Int64(manifest.count)), mode: 0o644, uid: 0, gid: 0, mtime: 0),
                       contents: .bytes(manifest))
        try tar.append(TarEntry(path: "\(imageID.encoded).json", kind: .file(size: Int64(config.count)), mode: 0o644, uid: 0, gid: 0, mtime: 0),
                       contents: .bytes(config))
        let layerEntry = TarEntry(path: "top/layer.tar", kind: .file(size: layerSize), mode: 0o644, uid: 0, gid: 0, mtime: 0)
        if let blob = inflatedFrom {
            try tar.append(layerEntry) { write in try DaemonArchive.inflate(layerPath, of: blob, size: layerSize, into: write) }
        } else {
            try tar.append(layerEntry, contents: .file(path: layerPath))
        }
        try tar.finish()
    }
}
