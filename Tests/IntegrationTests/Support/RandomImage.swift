import Foundation

/// An OCI image layout with one uncompressed layer of random bytes, so no other test's image
/// shares its layer; and the archive `ctr images import` reads.
struct RandomImage {
    var layout: URL
    var manifestDigest: String
    var layerDigest: String

    init(in dir: URL, reference: String, bytes: Int) throws {
        let root = dir.appending(path: "root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Command.run("head", ["-c", "\(bytes)", "/dev/urandom"]).check().stdoutData.write(to: root.appending(path: "payload"))
        layout = dir.appending(path: "layout")
        let blobs = layout.appending(path: "blobs/sha256")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let layer = dir.appending(path: "layer.tar")
        try Command.run("tar", ["-C", root.path, "--owner=0", "--group=0", "-cf", layer.path, "payload"]).check()
        let layerDescriptor = try Self.blob(at: layer, into: blobs, mediaType: "application/vnd.oci.image.layer.v1.tar")
        layerDigest = layerDescriptor["digest"] as! String
        let config: [String: Any] = ["architecture": TinyBase.goArch, "os": "linux",
                                     "rootfs": ["type": "layers", "diff_ids": [layerDigest]], "config": [String: Any]()]
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": try Self.blob(json: config, into: blobs, mediaType: "application/vnd.oci.image.config.v1+json"),
            "layers": [layerDescriptor],
        ]
        var manifestDescriptor = try Self.blob(json: manifest, into: blobs, mediaType: "application/vnd.oci.image.manifest.v1+json")
        manifestDigest = manifestDescriptor["digest"] as! String
        manifestDescriptor["annotations"] = ["org.opencontainers.image.ref.name": reference]
        try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "manifests": [manifestDescriptor]])
            .write(to: layout.appending(path: "index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: layout.appending(path: "oci-layout"))
    }

    /// The layout as a tar at `url`, leaving out the blobs named in `omitting`.
    func archive(at url: URL, omitting: [String] = []) throws -> URL {
        let excludes = omitting.map { "--exclude=./blobs/sha256/\($0.dropFirst("sha256:".count))" }
        try Command.run("tar", ["-C", layout.path, "-cf", url.path] + excludes + ["."]).check()
        return url
    }

    /// Moves `file` into `blobs` under its digest and describes it.
    private static func blob(at file: URL, into blobs: URL, mediaType: String) throws -> [String: Any] {
        let hex = String(try Command.run("sha256sum", [file.path]).check().stdout.prefix(64))
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
        try FileManager.default.moveItem(at: file, to: blobs.appending(path: hex))
        return ["mediaType": mediaType, "digest": "sha256:\(hex)", "size": size]
    }

    private static func blob(json: [String: Any], into blobs: URL, mediaType: String) throws -> [String: Any] {
        let file = blobs.deletingLastPathComponent().appending(path: "new-\(UUID().uuidString)")
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: file)
        return try blob(at: file, into: blobs, mediaType: mediaType)
    }
}
