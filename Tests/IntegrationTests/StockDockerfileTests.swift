import Foundation
import Testing

/// A Dockerfile in the style of Spark's own kubernetes/dockerfiles/spark/Dockerfile (the same
/// packages and file edits, written here) on a Debian bookworm JRE base with apt
/// (scripts/make-base-image.sh --apt, cached after its first run), with apt-get reaching Debian's
/// archive from the RUN over the host's network. One slow test, in a suite of its own.
@Suite(.serialized)
struct StockDockerfileTests {
    /// Tests/Fixtures/stock-style/Dockerfile, which scripts/bench.sh's RUN scenario builds too; its
    /// FROM is replaced by --base. A missing file fails the build that reads this.
    static let dockerfile = (try? String(contentsOf: PackageRoot.url.appending(path: "Tests/Fixtures/stock-style/Dockerfile"), encoding: .utf8))
        ?? "# Tests/Fixtures/stock-style/Dockerfile is missing\n"

    @Test func stockStyleDockerfileWithAptBuildsAndRuns() throws {
        let base = try Command.run(PackageRoot.url.appending(path: "scripts/make-base-image.sh").path, ["--apt"], timeout: .seconds(900)).check()
        let baseTar = base.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try RunFixture.with { fixture in
            try fixture.dockerfile(Self.dockerfile)
            let started = Date()
            try fixture.build(tag: "stock", extra: ["--base", "rootfs:\(baseTar)"])
            let cold = Date().timeIntervalSince(started)
            try fixture.spark.changeJar("spark-core_2.13-4.3.0.jar")
            let again = Date()
            let second = try fixture.build(tag: "stock", extra: ["--base", "rootfs:\(baseTar)"])
            let warm = Date().timeIntervalSince(again)
            print("stock-style build: cold \(String(format: "%.1f", cold)) s, after one jar changed \(String(format: "%.1f", warm)) s")
            #expect(!second.output.contains(try Regex("(?m)^#[0-9]+ [0-9.]+ ")), "a jar change re-runs no RUN that prints (the apt one)")

            let rootfs = try fixture.unpack("spark:stock")
            for tool in ["usr/bin/tini", "usr/bin/ps", "usr/bin/kinit", "usr/bin/netstat"] {
                #expect(FileManager.default.fileExists(atPath: rootfs.appending(path: tool).path), "\(tool)")
            }
            let shell = try FileManager.default.destinationOfSymbolicLink(atPath: rootfs.appending(path: "usr/bin/sh").path)
            #expect(shell == "/bin/bash")
            let passwd = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "etc/passwd").path)
            #expect(((passwd[.posixPermissions] as? Int) ?? 0) & 0o060 == 0o060 && passwd[.groupOwnerAccountID] as? Int == 0)
            #expect(!FileManager.default.fileExists(atPath: rootfs.appending(path: "var/lib/apt/lists/lock").path))

            guard let docker = try TestServices.docker() else { return }
            let archive = fixture.dir.appending(path: "stock.tar")
            try fixture.tool.run(["save", "spark:stock", "--format", "docker-archive", "-o", archive.path]).check()
            try docker.run(["load", "-i", archive.path]).check()
            defer { _ = try? docker.run(["rmi", "-f", "spark:stock"]) }
            let run = try docker.run(["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", "spark:stock", "-c",
                                      "id -u; /opt/spark/bin/spark-submit --version"]).check()
            #expect(run.stdout == "185\nspark-submit --version\n", "\(run)")
        }
    }
}
