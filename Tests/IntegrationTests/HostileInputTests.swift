import Foundation
import Testing

/// Hostile archives and build contexts through the built binary: each build fails with an error
/// that names the archive entry or symlink, a canary directory beside the build is byte for byte
/// unchanged, and the store still verifies.
@Suite(.serialized)
struct HostileInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// Tar entries (python tarfile): name, type, link target; `{canary}` is replaced.
        var tar: [[String]] = []
        /// The Dockerfile, with `{base}` and `{evil}` replaced; nil builds the default Dockerfile.
        var dockerfile: String?
        /// Changes the Spark home (with the canary's path) before the build.
        var prepare: (@Sendable (URL, URL) throws -> Void)?
        var expected: [String]
    }

    static let copyFromImage = "FROM rootfs:{evil} AS evil\nFROM rootfs:{base}\nCOPY --from=evil /opt/app /app\n"
    static let addTar = "FROM rootfs:{base}\nADD evil.tar /d/\n"

    static let cases: [Case] = [
        Case(testDescription: "COPY --from an image with an escaping symlink, then a file below it",
             tar: [["opt", "dir"], ["opt/app", "symlink", "{canary}"], ["opt/app/.bashrc", "file"]],
             dockerfile: copyFromImage, expected: ["Dockerfile:3:", "entry 'opt/app/.bashrc'", "'opt/app' is a symlink"]),
        Case(testDescription: "COPY --from an image with an opaque whiteout below an escaping symlink",
             tar: [["opt", "dir"], ["opt/app", "symlink", "{canary}"], ["opt/app/.wh..wh..opq", "file"]],
             dockerfile: copyFromImage, expected: ["entry 'opt/app/.wh..wh..opq'", "'opt/app' is a symlink"]),
        Case(testDescription: "ADD of a tar with an escaping symlink, then a file below it",
             tar: [["app", "symlink", "{canary}"], ["app/.bashrc", "file"]],
             dockerfile: addTar, expected: ["Dockerfile:2:", "evil.tar: entry 'app/.bashrc'", "'app' is a symlink"]),
        Case(testDescription: "ADD of a tar whose whiteout names ..",
             tar: [["d", "dir"], [".wh...", "file"]], dockerfile: addTar, expected: ["evil.tar: entry '.wh...'", "does not name a file"]),
        Case(testDescription: "ADD of a tar with a hard link out of the tree",
             tar: [["x", "hardlink", "../../x"]], dockerfile: addTar, expected: ["evil.tar: entry 'x'", "'..'"]),
        Case(testDescription: "COPY of a symlink cycle in the build context",
             dockerfile: "FROM rootfs:{base}\nCOPY loop-a /x\n",
             prepare: { home, _ in
                 for (link, target) in [("loop-a", "loop-b"), ("loop-b", "loop-a")] {
                     try FileManager.default.createSymbolicLink(atPath: home.appending(path: link).path, withDestinationPath: target)
                 }
             },
             expected: ["Dockerfile:2:", "COPY source 'loop-a'", "too many levels of symlinks"]),
        Case(testDescription: "a build context whose examples directory is a symlink out of it",
             prepare: { home, canary in
                 let examples = home.appending(path: "examples")
                 try FileManager.default.copyItem(at: examples, to: canary.appending(path: "examples"))
                 try FileManager.default.removeItem(at: examples)
                 try FileManager.default.createSymbolicLink(at: examples, withDestinationURL: canary.appending(path: "examples"))
             },
             expected: ["symlink 'examples' -> '", "points outside the build context"]),
        Case(testDescription: "a malformed .dockerignore pattern",
             prepare: { home, _ in try Data("*.log\nsecrets/[a-\n".utf8).write(to: home.appending(path: ".dockerignore")) },
             expected: [".dockerignore:2:", "malformed pattern 'secrets/[a-'"]),
    ]

    @Test(arguments: cases)
    func refusedWithoutTouchingAnythingOutside(_ testCase: Case) throws {
        try Built.with { built in
            let (dir, spark, tool) = (built.dir, built.spark, built.tool)
            try tool.build(home: spark.home, base: built.base, tag: "good")
            let canary = dir.appending(path: "canary")
            try FileManager.default.createDirectory(at: canary.appending(path: "sub"), withIntermediateDirectories: true)
            try Data("do not touch\n".utf8).write(to: canary.appending(path: ".bashrc"))
            try Data("nested\n".utf8).write(to: canary.appending(path: "sub/file"))
            try testCase.prepare?(spark.home, canary)
            let evil = spark.home.appending(path: "evil.tar")
            if !testCase.tar.isEmpty { try Self.makeTar(testCase.tar, at: evil, canary: canary) }
            let before = try Self.snapshot(canary)
            var arguments = ["build", "--spark-home", spark.home.path, "-r", "localhost:5000/spark", "-t", "evil"]
            if let dockerfile = testCase.dockerfile {
                let file = dir.appending(path: "Dockerfile")
                let text = dockerfile.replacingOccurrences(of: "{base}", with: built.base.path).replacingOccurrences(of: "{evil}", with: evil.path)
                try Data(text.utf8).write(to: file)
                arguments += ["-f", file.path]
            } else {
                arguments += ["--base", "rootfs:\(built.base.path)"]
            }
            let result = try tool.run(arguments)
            #expect(result.status == 1, "\(result)")
            for fragment in testCase.expected {
                #expect(result.stderr.contains(fragment), "expected '\(fragment)' in:\n\(result.stderr)")
            }
            #expect(!result.stderr.contains("Fatal error"), "\(result)")
            #expect(try Self.snapshot(canary) == before, "the canary beside the build changed")
            let verify = try tool.expectConsistentStore()
            #expect(verify.succeeded, "\(verify)")
            #expect(!(try tool.run(["images"]).check().stdout.contains(":evil")), "nothing is tagged")
        }
    }

    /// Entries as [name, type, link]; Python's tarfile writes them as given, `..` and all.
    static func makeTar(_ entries: [[String]], at url: URL, canary: URL) throws {
        let spec = entries.map { $0.map { $0.replacingOccurrences(of: "{canary}", with: canary.path) } }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
        try Command.run("python3", ["-c", """
            import io, json, sys, tarfile
            kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}
            with tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as tar:
                for entry in json.loads(sys.argv[1]):
                    info = tarfile.TarInfo(entry[0]); info.type = kinds[entry[1]]
                    info.mode = 0o755 if entry[1] == "dir" else 0o644
                    if len(entry) > 2: info.linkname = entry[2]
                    data = b"owned\\n" if entry[1] == "file" else b""
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            """, json, url.path]).check()
    }

    /// Every path below `root` with its type, mode and content or target.
    static func snapshot(_ root: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        for case let relative as String in FileManager.default.enumerator(atPath: root.path)! {
            let path = root.appending(path: relative).path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            var description = "\(attributes[.type]!) \(attributes[.posixPermissions]!)"
            if attributes[.type] as? FileAttributeType == .typeRegular {
                description += " " + (try Data(contentsOf: URL(fileURLWithPath: path))).base64EncodedString()
            }
            result[relative] = description
        }
        return result
    }
}
