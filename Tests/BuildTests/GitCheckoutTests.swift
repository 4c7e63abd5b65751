@testable import Build
import Foundation
import Testing

/// `.git` read without git: HEAD → ref → commit, packed-refs, the remote, and no credentials.
struct GitCheckoutTests {
    static let sha = "0123456789abcdef0123456789abcdef01234567"
    static let other = "fedcba9876543210fedcba9876543210fedcba98"
    static let sha256 = String(repeating: "ab", count: 32)
    static let packed = "# pack-refs with: peeled fully-peeled sorted\n\(other) refs/heads/old\n\(sha) refs/heads/main\n^\(other)\n"

    @Test(arguments: [
        ("ref: refs/heads/main\n", ["refs/heads/main": "\(sha)\n"], "", sha as String?),
        ("ref: refs/heads/main\n", [:], packed, sha),
        ("\(other)\n", [:], "", other),
        ("\(sha256)\n", [:], "", sha256),
        ("ref: refs/heads/alias", ["refs/heads/alias": "ref: refs/heads/main", "refs/heads/main": sha], "", sha),
        // A loose ref wins over a stale packed one.
        ("ref: refs/heads/main", ["refs/heads/main": other], packed, other),
        // No commit yet, a ref loop, a ref outside refs/, and text that is not a commit.
        ("ref: refs/heads/unborn", [:], packed, nil),
        ("ref: refs/heads/a", ["refs/heads/a": "ref: refs/heads/a"], "", nil),
        ("ref: ../../etc/passwd", [:], "", nil),
        ("ref: refs/heads/x", ["refs/heads/x": "not a sha"], "", nil),
        (sha.uppercased(), [:], "", nil),
    ] as [(String, [String: String], String, String?)])
    func revision(head: String, loose: [String: String], packedRefs: String, expected: String?) {
        #expect(GitCheckout.revision(head: head, packedRefs: packedRefs, looseRef: { loose[$0] }) == expected)
    }

    @Test(arguments: [
        ("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://github.com/apache/spark.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
         "https://github.com/apache/spark.git" as String?),
        ("[remote \"fork\"]\n\turl = git@github.com:me/spark.git\n[remote \"origin\"]\n  URL = \"https://example.com/spark\"\n",
         "https://example.com/spark"),
        ("[remote \"fork\"]\n\turl = git@github.com:me/spark.git\n", "git@github.com:me/spark.git"),
        ("[core]\n\turl = https://not-a-remote\n", nil),
        ("", nil),
    ] as [(String, String?)])
    func remote(config: String, expected: String?) {
        #expect(GitCheckout.remoteURL(config: config) == expected)
    }

    @Test(arguments: [
        ("https://user:ghp_token@github.com/apache/spark.git", "https://github.com/apache/spark.git"),
        ("https://oauth2:glpat-x@gitlab.example.com:8443/a/b", "https://gitlab.example.com:8443/a/b"),
        ("https://token@host/repo?x=a@b", "https://host/repo?x=a@b"),
        ("ssh://git@host/repo.git", "ssh://host/repo.git"),
        ("https://github.com/apache/spark", "https://github.com/apache/spark"),
        ("git@github.com:apache/spark.git", "git@github.com:apache/spark.git"),
        ("user:secret@host:repo.git", "host:repo.git"),
        ("/srv/git/spark.git", "/srv/git/spark.git"),
    ])
    func credentialsStripped(url: String, expected: String) {
        #expect(GitCheckout.withoutCredentials(url) == expected)
    }

    /// A linked worktree: `.git` is a file, HEAD is in its own directory, refs in the common one.
    @Test func worktreeFileAndCommonDirectory() throws {
        let root = FileManager.default.temporaryDirectory.appending(path: "git-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = [
            "main/.git/packed-refs": Self.packed,
            "main/.git/config": "[remote \"origin\"]\n\turl = https://u:p@example.com/spark\n",
            "main/.git/worktrees/wt/HEAD": "ref: refs/heads/main\n",
            "main/.git/worktrees/wt/commondir": "../..\n",
            "wt/.git": "gitdir: ../main/.git/worktrees/wt\n",
            "wt/dist/RELEASE": "Spark\n",
        ]
        for (path, text) in files {
            try FileManager.default.createDirectory(atPath: "\(root)/\((path as NSString).deletingLastPathComponent)", withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(root)/\(path)"))
        }
        #expect(GitCheckout.containing("\(root)/wt/dist") == GitCheckout(revision: Self.sha, remote: "https://example.com/spark"))
        #expect(GitCheckout.containing(root) == nil)
    }
}
