import Foundation
import Testing

/// Proves the harness and its real peers work, before the tool itself can push or load anything:
/// a tiny image made by umoci goes to the test registry and into the test dockerd through skopeo.
@Suite("Harness smoke tests")
struct HarnessSmokeTests {
    @Test("TinyBase rootfs is reproducible, owned by root, with a sticky /tmp")
    func tinyBaseRootfs() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = dir.path("a.tar.gz"), b = dir.path("b.tar.gz")
        try TinyBase.makeRootfs(at: a)
        try TinyBase.makeRootfs(at: b)
        #expect(try Data(contentsOf: a) == Data(contentsOf: b))

        let listing = try Command.run("tar", ["-tvzf", a.path], environment: ["LC_ALL": "C"]).check().stdout
        let lines = listing.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("drwxrwxrwt 0/0") && $0.hasSuffix(" ./tmp/") }, "\(listing)")
        #expect(lines.contains { $0.hasPrefix("-rwxr-xr-x 0/0") && $0.hasSuffix(" ./bin/busybox") }, "\(listing)")
        #expect(lines.contains { $0.hasSuffix(" ./bin/sh -> busybox") }, "\(listing)")
        #expect(lines.allSatisfy { $0.contains(" 0/0 ") }, "\(listing)")
        #expect(try Command.run("tar", ["-xOzf", a.path, "./etc/passwd"]).check().stdout == TinyBase.passwd)
    }

    @Test("require: value when set, nil locally when missing, throws in CI")
    func requireSemantics() throws {
        #expect(try TestServices.require(.registry, environment: ["SIT_REGISTRY": "127.0.0.1:5000"]) == "127.0.0.1:5000")
        #expect(try TestServices.require(.registry, environment: ["SIT_REGISTRY": "", "CI": "false"], announce: false) == nil)
        #expect(throws: ServiceUnavailable.self) {
            try TestServices.require(.registry, environment: ["CI": "true"], announce: false)
        }
    }

    @Test("umoci image unpacks with the tiny rootfs and the configured user")
    func umociUnpack() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let layout = dir.path("layout")
        try TinyBase.makeOCIImage(layout: layout, tag: "1", user: "185")
        let bundle = dir.path("bundle")
        try Command.run("umoci", ["unpack", "--image", "\(layout.path):1", bundle.path]).check()
        let rootfs = bundle.appending(path: "rootfs")
        let attrs = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "tmp").path)
        #expect((attrs[.posixPermissions] as? Int) == 0o1777)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs.appending(path: "bin/sh").path) == "busybox")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: bundle.appending(path: "config.json"))) as? [String: Any]
        let user = (config?["process"] as? [String: Any])?["user"] as? [String: Any]
        #expect((user?["uid"] as? Int) == 185, "runtime config: \(String(describing: config?["process"]))")
    }

    @Test("skopeo pushes a tiny image to the test registry and reads it back")
    func registryRoundTrip() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let layout = dir.path("layout")
        try TinyBase.makeOCIImage(layout: layout, tag: "1", user: "185")

        let repo = "sit-smoke/tiny-\(UUID().uuidString.prefix(8).lowercased())"
        let ref = "docker://\(registry)/\(repo):1"
        let copy = try Command.run("skopeo", ["copy", "--dest-tls-verify=false", "oci:\(layout.path):1", ref], timeout: .seconds(120))
        try #require(copy.succeeded, "\(copy)")

        let inspect = try Command.run("skopeo", ["inspect", "--tls-verify=false", ref]).check()
        let info = try JSONSerialization.jsonObject(with: inspect.stdoutData) as? [String: Any]
        #expect(info?["Architecture"] as? String == TinyBase.goArch, "\(inspect)")
        #expect((info?["Layers"] as? [String])?.count == 1, "\(inspect)")
        #expect(info?["Name"] as? String == "\(registry)/\(repo)", "\(inspect)")

        let raw = try Command.run("skopeo", ["inspect", "--raw", "--tls-verify=false", ref]).check()
        let manifest = try JSONSerialization.jsonObject(with: raw.stdoutData) as? [String: Any]
        #expect(manifest?["schemaVersion"] as? Int == 2, "\(raw)")
        let digest = try Command.run("sha256sum", stdin: raw.stdoutData).check().output.prefix(64)
        #expect(info?["Digest"] as? String == "sha256:\(digest)", "\(inspect)")

        let config = try Command.run("skopeo", ["inspect", "--config", "--tls-verify=false", ref]).check()
        let image = try JSONSerialization.jsonObject(with: config.stdoutData) as? [String: Any]
        #expect((image?["config"] as? [String: Any])?["User"] as? String == "185", "\(config)")
    }

    @Test("docker loads a tiny image into the test dockerd and runs it without network")
    func dockerLoadAndRun() throws {
        guard let docker = try TestServices.docker() else { return }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let layout = dir.path("layout")
        try TinyBase.makeOCIImage(layout: layout, tag: "1", user: "185", cmd: ["/bin/id", "-u"])

        let name = "sit-smoke/tiny:\(UUID().uuidString.prefix(8).lowercased())"
        let archive = dir.path("image.tar")
        try Command.run("skopeo", ["copy", "oci:\(layout.path):1", "docker-archive:\(archive.path):\(name)"]).check()

        let load = try docker.run(["load", "-i", archive.path])
        try #require(load.succeeded, "\(load)")
        #expect(load.stdout.contains("Loaded image: \(name)"), "\(load)")
        defer { _ = try? docker.run(["rmi", "-f", name]) }

        let run = try docker.run(["run", "--rm", "--network", "none", name], timeout: .seconds(120))
        #expect(run.succeeded, "\(run)")
        #expect(run.output == "185", "\(run)")

        // uid 185 has no passwd entry in TinyBase, as in Spark images before their entrypoint runs.
        let whoami = try docker.run(["run", "--rm", "--network", "none", name, "/bin/whoami"], timeout: .seconds(120))
        #expect(!whoami.succeeded, "\(whoami)")

        let asRoot = try docker.run(["run", "--rm", "--network", "none", "-u", "0", name, "/bin/sh", "-c", "id -u; stat -c %a /tmp"], timeout: .seconds(120))
        #expect(asRoot.output == "0\n1777", "\(asRoot)")
    }
}
