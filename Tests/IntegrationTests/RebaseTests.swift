import Foundation
import Testing

/// `rebase`: a patched base under the same Spark layers, pushed with only the base's blobs.
@Suite(.serialized)
struct RebaseTests {
    @Test func rebaseKeepsTheSparkLayersAndUploadsOnlyTheNewBase() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try Built.with { built in
            let (dir, tool) = (built.dir, built.tool)
            let repo = RegistryPushTests.uniqueRepository(registry)
            try tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "1", "--base", "rootfs:\(built.base.path)",
                          "--push"]).check()
            let patched = dir.appending(path: "patched.tar")
            try Self.addPackage(to: built.base, at: patched, staging: dir.appending(path: "patched"))

            let image = "\(repo)/spark:1"
            let before = try Self.layers(tool: tool, image: image, dir: dir.appending(path: "before"))
            let rebase = try tool.run(["rebase", image, "--base", "rootfs:\(patched.path)", "--old-base", "rootfs:\(built.base.path)", "--push"]).check()
            // The new base's layer and the new config; every Spark layer is already in the registry.
            #expect(rebase.stdout.contains("2 blobs uploaded"), "\(rebase)")
            let after = try Self.layers(tool: tool, image: image, dir: dir.appending(path: "after"))
            #expect(after.count == before.count)
            #expect(after.first != before.first, "the base layer is the new one")
            #expect(Array(after.dropFirst()) == Array(before.dropFirst()), "the Spark layers are the same blobs")

            let inspect = try Command.run("skopeo", ["inspect", "--tls-verify=false", "docker://\(image)"]).check()
            let json = try JSONSerialization.jsonObject(with: inspect.stdoutData) as! [String: Any]
            #expect(json["Layers"] as? [String] == after, "the registry serves the rebased image")

            let rootfs = try Self.unpack(tool: tool, image: image, dir: dir.appending(path: "unpacked"))
            #expect(FileManager.default.fileExists(atPath: rootfs.appending(path: "usr/share/patched-package").path))
            try expectSameTree(built.spark.home.appending(path: "jars"), rootfs.appending(path: "opt/spark/jars"))
            #expect(try tool.expectConsistentStore().status == 0)

            guard let docker = try TestServices.docker() else { return }
            defer { _ = try? docker.run(["rmi", "-f", image]) }
            try docker.run(["pull", image]).check()
            let run = try docker.run(["run", "--rm", "--network", "none", image, "sh", "-c", "cat /usr/share/patched-package; ls /opt/spark/jars | wc -l"]).check()
            #expect(run.stdout.contains("installed\n"), "\(run)")
            #expect(run.stdout.hasSuffix("\(try FileManager.default.contentsOfDirectory(atPath: built.spark.home.appending(path: "jars").path).count)\n"), "\(run)")
        }
    }

    @Test func aBaseItWasNotBuiltOnIsRefused() throws {
        try Built.with { built in
            try built.tool.build(home: built.spark.home, base: built.base)
            let other = built.dir.appending(path: "other.tar")
            try Self.addPackage(to: built.base, at: other, staging: built.dir.appending(path: "other"))
            let refused = try built.tool.run(["rebase", "localhost:5000/spark/spark:4.3.0", "--base", "rootfs:\(built.base.path)",
                                              "--old-base", "rootfs:\(other.path)"])
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.stderr.contains("was not built on rootfs:\(other.path)"), "\(refused)")
            let unnamed = try built.tool.run(["rebase", "localhost:5000/spark/spark:4.3.0", "--base", "rootfs:\(other.path)"])
            #expect(unnamed.status == 1 && unnamed.stderr.contains("--old-base"), "\(unnamed)")
        }
    }

    /// The tiny base plus one file: a base "with one extra package".
    static func addPackage(to base: URL, at url: URL, staging: URL) throws {
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        try Command.run("tar", ["-xzf", base.path, "-C", staging.path]).check()
        try FileManager.default.createDirectory(at: staging.appending(path: "usr/share"), withIntermediateDirectories: true)
        try Data("installed\n".utf8).write(to: staging.appending(path: "usr/share/patched-package"))
        try Command.run("tar", ["--create", "--file", url.path, "--directory", staging.path, "--owner=0", "--group=0", "."]).check()
    }

    static func layers(tool: Tool, image: String, dir: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let archive = dir.appending(path: "image.tar")
        try tool.run(["save", image, "-o", archive.path]).check()
        let inspect = try Command.run("skopeo", ["inspect", "oci-archive:\(archive.path)"]).check()
        return (try JSONSerialization.jsonObject(with: inspect.stdoutData) as! [String: Any])["Layers"] as? [String] ?? []
    }

    static func unpack(tool: Tool, image: String, dir: URL) throws -> URL {
        let layout = dir.appending(path: "layout")
        try FileManager.default.createDirectory(at: layout, withIntermediateDirectories: true)
        let archive = dir.appending(path: "image.tar")
        try tool.run(["save", image, "--format", "oci-archive", "-o", archive.path]).check()
        try Command.run("tar", ["-xf", archive.path, "-C", layout.path]).check()
        try Command.run("umoci", ["unpack", "--image", "\(layout.path):\(image)", dir.appending(path: "bundle").path]).check()
        return dir.appending(path: "bundle/rootfs")
    }
}
