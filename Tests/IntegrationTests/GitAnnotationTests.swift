import Foundation
import Testing

/// `org.opencontainers.image.source` and `.revision`: from the git checkout the distribution is
/// in (read by the tool from .git, checked here against git itself), or from --label and
/// --annotation; a token in the remote URL never reaches the image.
@Suite(.serialized)
struct GitAnnotationTests {
    static let token = "ghp_s3cr3tT0ken"

    static func git(_ arguments: [String], in directory: URL) throws -> String {
        let identity = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": directory.path]
        return try Command.run("git", ["-C", directory.path] + arguments, environment: identity).check().output
    }

    /// The stored image's manifest and config as skopeo reads them from an oci-archive.
    static func manifestAndConfig(_ image: String, built: Built) throws -> (raw: String, manifest: [String: Any], config: [String: Any]) {
        let archive = built.dir.appending(path: "\(UUID().uuidString).tar")
        try built.tool.run(["save", image, "--format", "oci-archive", "-o", archive.path]).check()
        let raw = try Command.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive.path)"]).check()
        let config = try Command.run("skopeo", ["inspect", "--config", "oci-archive:\(archive.path)"]).check()
        return (raw.stdout, try JSONSerialization.jsonObject(with: raw.stdoutData) as! [String: Any],
                try JSONSerialization.jsonObject(with: config.stdoutData) as! [String: Any])
    }

    @Test func aCheckoutGivesRevisionAndSourceWithoutCredentials() throws {
        try Built.with { built in
            let home = built.spark.home
            _ = try Self.git(["init", "-q", "-b", "main"], in: home)
            _ = try Self.git(["add", "-A"], in: home)
            _ = try Self.git(["commit", "-q", "-m", "first"], in: home)
            _ = try Self.git(["remote", "add", "origin", "https://builder:\(Self.token)@git.example.com/org/spark.git"], in: home)
            try Data("changed\n".utf8).write(to: home.appending(path: "data/graphx/users.txt"))
            let head = try Self.git(["rev-parse", "HEAD"], in: home)

            try built.tool.build(home: home, base: built.base, tag: "git")
            let image = try Self.manifestAndConfig("localhost:5000/spark/spark:git", built: built)
            let annotations = try #require(image.manifest["annotations"] as? [String: String])
            #expect(annotations["org.opencontainers.image.revision"] == head, "a dirty tree is its HEAD commit: \(annotations)")
            #expect(annotations["org.opencontainers.image.source"] == "https://git.example.com/org/spark.git", "\(annotations)")
            #expect(!image.raw.contains(Self.token) && !image.raw.contains("builder"), "no credentials in the manifest")

            // Packed refs (as after `git gc`) give the same commit.
            _ = try Self.git(["pack-refs", "--all"], in: home)
            #expect(!FileManager.default.fileExists(atPath: home.appending(path: ".git/refs/heads/main").path))
            try built.tool.build(home: home, base: built.base, tag: "packed")
            let packed = try Self.manifestAndConfig("localhost:5000/spark/spark:packed", built: built)
            #expect((packed.manifest["annotations"] as? [String: String])?["org.opencontainers.image.revision"] == head)
        }
    }

    @Test func labelsAndAnnotationsGiveThemOutsideACheckout() throws {
        try Built.with { built in
            try built.tool.build(home: built.spark.home, base: built.base, tag: "plain")
            let plain = try Self.manifestAndConfig("localhost:5000/spark/spark:plain", built: built)
            let keys = (plain.manifest["annotations"] as? [String: String] ?? [:]).keys
            #expect(!keys.contains("org.opencontainers.image.revision") && !keys.contains("org.opencontainers.image.source"), "\(keys)")

            try built.tool.build(home: built.spark.home, base: built.base, tag: "given", extra: [
                "--label", "org.opencontainers.image.revision=abc123", "--label", "team=data",
                "--label", "org.opencontainers.image.source=https://label.example.com/spark",
                "--annotation", "org.opencontainers.image.source=https://annotation.example.com/spark",
            ])
            let given = try Self.manifestAndConfig("localhost:5000/spark/spark:given", built: built)
            let annotations = try #require(given.manifest["annotations"] as? [String: String])
            #expect(annotations["org.opencontainers.image.revision"] == "abc123")
            #expect(annotations["org.opencontainers.image.source"] == "https://annotation.example.com/spark", "--annotation wins over --label")
            let labels = (given.config["config"] as? [String: Any])?["Labels"] as? [String: String]
            #expect(labels?["team"] == "data" && labels?["org.opencontainers.image.revision"] == "abc123", "\(given.config)")

            let bad = try built.tool.run(["build", "--spark-home", built.spark.home.path, "--label", "novalue"])
            #expect(bad.status == 2 && bad.stderr.contains("--label 'novalue' must be KEY=VALUE"), "\(bad)")
        }
    }
}
