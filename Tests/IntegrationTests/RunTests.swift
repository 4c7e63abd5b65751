import Foundation
import Testing

/// RUN through the built binary, on the tiny busybox base, with the real OCI runtime (crun or
/// runc): what it writes and deletes reaches the image (checked by umoci and docker), a failure
/// is named and tags nothing, the cache starts no runtime, and nothing escapes.
@Suite(.serialized)
struct RunTests {
    /// Everything a RUN sees and does, in one build; the image read back by umoci (and docker).
    @Test func runWritesDeletesAndSeesItsEnvironment() throws {
        try RunFixture.with { fixture in
            let secret = fixture.dir.appending(path: "token")
            try Data("s3cr3t-value".utf8).write(to: secret)
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                ARG GREETING=hello
                ENV LEVEL=info
                RUN mkdir -p /data/keep /opt/empty && touch /data/a /data/keep/b /opt/empty/x \\
                    && echo "spark:x:185:185::/opt/spark:/bin/sh" >> /etc/passwd && echo "spark:x:185:" >> /etc/group
                RUN echo "$GREETING $LEVEL" > /greeting && echo printed-by-run
                RUN ["/bin/sh", "-c", "echo exec-form > /exec"]
                RUN <<EOF
                echo from-heredoc > /heredoc
                EOF
                RUN rm /bin/ls && rm -rf /data && mkdir /data && touch /data/c && rm /opt/empty/x
                RUN --mount=type=secret,id=token test "$(cat /run/secrets/token)" = s3cr3t-value && echo secret-seen > /secret-seen
                COPY --chown=spark:spark jars/spark-core_2.13-4.3.0.jar /opt/spark/jars/
                USER spark
                RUN id -u > /tmp/uid && id -g > /tmp/gid

                """)
            let build = try fixture.build(tag: "run", extra: ["--secret", "id=token,src=\(secret.path)"])
            #expect(build.output.contains(try Regex("#6 [0-9]+\\.[0-9]{3} printed-by-run")), "RUN output streams as BuildKit's plain progress: \(build.output)")
            let rootfs = try fixture.unpack("spark:run")
            func text(_ path: String) -> String? {
                FileManager.default.contents(atPath: rootfs.appending(path: path).path).map { String(decoding: $0, as: UTF8.self) }
            }
            #expect(text("greeting") == "hello info\n", "build args and ENV are visible")
            #expect(text("exec") == "exec-form\n")
            #expect(text("heredoc") == "from-heredoc\n")
            #expect(text("secret-seen") == "secret-seen\n")
            #expect(text("tmp/uid") == "185\n" && text("tmp/gid") == "185\n", "USER spark resolved through /etc/passwd")
            #expect(!FileManager.default.fileExists(atPath: rootfs.appending(path: "bin/ls").path), "a base file deleted")
            #expect(try FileManager.default.contentsOfDirectory(atPath: rootfs.appending(path: "data").path) == ["c"], "a replaced directory is opaque")
            #expect(try FileManager.default.contentsOfDirectory(atPath: rootfs.appending(path: "opt/empty").path) == [])
            let jar = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "opt/spark/jars/spark-core_2.13-4.3.0.jar").path)
            #expect(jar[.ownerAccountID] as? Int == 185 && jar[.groupOwnerAccountID] as? Int == 185, "COPY --chown takes names")
            let grep = try Command.run("grep", ["-r", "-l", "s3cr3t-value", rootfs.path])
            #expect(grep.stdout.isEmpty, "the secret is in no layer")
            #expect(try fixture.tool.expectConsistentStore().succeeded)

            guard let docker = try TestServices.docker() else { return }
            let archive = fixture.dir.appending(path: "docker.tar")
            try fixture.tool.run(["save", "spark:run", "--format", "docker-archive", "-o", archive.path]).check()
            try docker.run(["load", "-i", archive.path]).check()
            defer { _ = try? docker.run(["rmi", "-f", "spark:run"]) }
            let run = try docker.run(["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", "spark:run", "-c",
                                      "test -e /bin/ls || echo ls-gone; /bin/busybox ls /data; echo --; /bin/busybox ls /opt/empty; cat /greeting"]).check()
            #expect(run.stdout == "ls-gone\nc\n--\nhello info\n", "\(run)")
        }
    }

    /// Bind mounts from an earlier stage and from the build context are read-only views, not layer content.
    @Test func bindMountsFromAStageAndTheContext() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference) AS tools
                RUN mkdir /tools && echo tool-data > /tools/data

                FROM \(fixture.baseReference)
                RUN --mount=type=bind,from=tools,source=/tools,target=/mnt/tools cat /mnt/tools/data > /from-stage
                RUN --mount=type=bind,source=jars,target=/mnt/jars ls /mnt/jars > /from-context && ! touch /mnt/jars/x

                """)
            try fixture.build(tag: "binds")
            let rootfs = try fixture.unpack("spark:binds")
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "from-stage").path) == Data("tool-data\n".utf8))
            let listing = FileManager.default.contents(atPath: rootfs.appending(path: "from-context").path).map { String(decoding: $0, as: UTF8.self) }
            #expect(listing?.contains("spark-core_2.13-4.3.0.jar\n") == true, "\(listing ?? "")")
            #expect(!FileManager.default.fileExists(atPath: rootfs.appending(path: "mnt/tools/data").path), "a bind mount is not in the layer")
            #expect(!FileManager.default.fileExists(atPath: fixture.spark.home.appending(path: "jars/x").path))
        }
    }

    /// Overlayfs takes absolute paths only: a store named relative to the working directory still runs RUN.
    @Test func aRelativeStorePath() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("FROM \(fixture.baseReference)\nRUN echo relative > /made\n")
            let arguments = try fixture.buildArguments(tag: "relative").dropLast(2) + ["--store", "relative-store"]
            try Binary.run(Array(arguments), currentDirectory: fixture.dir).check()
            #expect(FileManager.default.fileExists(atPath: fixture.dir.appending(path: "relative-store/snapshots").path))
        }
    }

    @Test func aFailingRunIsNamedAndTagsNothing() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN touch /made
                RUN i=0; while [ $i -lt 30 ]; do echo line$i; i=$((i+1)); done; exit 3

                """)
            let result = try fixture.tool.run(fixture.buildArguments(tag: "failed"))
            #expect(result.status != 0)
            #expect(result.stderr.contains("Dockerfile:3: RUN exited with status 3: /bin/sh -c i=0"), "\(result)")
            #expect(result.stderr.contains("  | line29") && result.stderr.contains("  | line10") && !result.stderr.contains("  | line9\n"), "\(result)")
            #expect(!(try fixture.tool.run(["images"]).check().stdout.contains("failed")), "nothing tagged")
            #expect(try fixture.tool.expectConsistentStore().succeeded)
            let ingest = (try? FileManager.default.contentsOfDirectory(atPath: fixture.tool.store.appending(path: "ingest").path)) ?? []
            #expect(ingest.isEmpty, "the upper directory and bundle are removed: \(ingest)")
        }
    }

    /// The second build starts no runtime (its RUN writes a nanosecond stamp, which would differ);
    /// a later COPY that changes does not re-run the RUN before it; -n does; a cache mount keeps its files.
    @Test func cachedRunsStartNoRuntimeAndCacheMountsPersist() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /runs && date +%s%N > /stamp && echo ran
                COPY jars /opt/spark/jars

                """)
            let first = try fixture.build(tag: "one")
            let firstLayers = try fixture.layers("spark:one")
            try Data("changed".utf8).write(to: fixture.spark.home.appending(path: "jars/spark-core_2.13-4.3.0.jar"))
            let second = try fixture.build(tag: "two")
            let secondLayers = try fixture.layers("spark:two")
            #expect(firstLayers[1] == secondLayers[1], "the RUN layer is the cached one")
            #expect(firstLayers[2] != secondLayers[2], "the COPY layer changed")
            let ran = try Regex("#2 [0-9.]+ ran")
            #expect(first.output.contains(ran) && !second.output.contains(ran), "no RUN output the second time: \(second.output)")
            let third = try fixture.build(tag: "three", extra: ["-n"])
            #expect(third.output.contains(ran), "-n runs it again")
            let rootfs = try fixture.unpack("spark:three")
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "runs").path) == Data("2\n".utf8), "the cache mount kept the first run's file")
            #expect(try fixture.layers("spark:three")[1] != firstLayers[1])
        }
    }

    /// Writes through /proc/self/root and through symlinks to host paths land in the image, never on the host.
    @Test func anEscapingRunChangesNothingOutside() throws {
        try RunFixture.with { fixture in
            let outside = fixture.dir.appending(path: "outside")
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN ln -s \(outside.path) /link && mkdir -p \(outside.path) && echo pwned > /link/via-link \\
                    && echo pwned > /proc/self/root\(outside.path)/via-proc && ln -s / /root-link
                RUN echo pwned > /link/later && echo pwned > /root-link\(outside.path)/via-root-link

                """)
            try fixture.build(tag: "escape")
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path) == [], "nothing written on the host")
            let rootfs = try fixture.unpack("spark:escape")
            let inside = try FileManager.default.contentsOfDirectory(atPath: rootfs.appending(path: outside.path).path).sorted()
            #expect(inside == ["later", "via-link", "via-proc", "via-root-link"])
        }
    }

    /// The same build as an unprivileged user (sit-rootless, from scripts/bootstrap.sh), with its own store.
    @Test func rootlessBuildAsAnUnprivilegedUser() throws {
        guard let user = getpwnam("sit-rootless") else {
            if TestServices.isCI() { throw RootlessUserMissing() }
            try Test.cancel("SKIPPED: no sit-rootless user; run scripts/bootstrap.sh")
        }
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN mkdir /made /gone && touch /gone/a && echo rootless > /made/file && rm /bin/ls && id -u > /uid
                RUN test ! -e /bin/ls && rm -rf /gone && mkdir /gone && touch /gone/b && echo whiteouts-seen > /second
                RUN ls /gone > /listing

                """)
            try Command.run("chown", ["-R", "\(user.pointee.pw_uid):\(user.pointee.pw_gid)", fixture.dir.path]).check()
            let args = try fixture.buildArguments(tag: "rootless")
            let result = try Command.run("setpriv", ["--reuid=sit-rootless", "--regid=\(user.pointee.pw_gid)", "--init-groups",
                                                     try Binary.path()] + args,
                                         environment: ["HOME": fixture.dir.path])
            #expect(result.succeeded, "\(result)")
            let rootfs = try fixture.unpack("spark:rootless")
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "made/file").path) == Data("rootless\n".utf8))
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "uid").path) == Data("0\n".utf8), "root inside")
            #expect(!FileManager.default.fileExists(atPath: rootfs.appending(path: "bin/ls").path))
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "second").path) == Data("whiteouts-seen\n".utf8),
                    "a rootless snapshot keeps the whiteout of the layer below")
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "listing").path) == Data("b\n".utf8),
                    "a rootless snapshot's opaque directory hides what was below")
            let owner = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "made/file").path)[.ownerAccountID] as? Int
            #expect(owner == 0, "the caller's files are root's in the layer")
        }
    }

    struct RootlessUserMissing: Error, CustomStringConvertible {
        var description: String { "the sit-rootless user is missing but CI=true: scripts/bootstrap.sh makes it" }
    }
}

/// A Spark fixture, the tiny busybox base as a rootfs tarball, a store and a Dockerfile, all in one temporary directory.
struct RunFixture {
    let dir: URL
    let spark: SparkFixture
    let base: URL
    let tool: Tool

    var baseReference: String { "rootfs:\(base.path)" }
    var dockerfilePath: URL { dir.appending(path: "Dockerfile") }

    static func with(_ body: (RunFixture) throws -> Void) throws {
        try TemporaryDirectory.with { dir in
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
            let base = dir.appending(path: "base.tar.gz")
            try TinyBase.makeRootfs(at: base)
            try body(RunFixture(dir: dir, spark: try SparkFixture(at: dir.appending(path: "spark")), base: base,
                                tool: Tool(store: dir.appending(path: "store"))))
        }
    }

    func dockerfile(_ text: String) throws {
        try Data(text.utf8).write(to: dockerfilePath)
    }

    func buildArguments(tag: String, extra: [String] = []) throws -> [String] {
        ["build", "--spark-home", spark.home.path, "-f", dockerfilePath.path, "-t", tag, "--store", tool.store.path] + extra
    }

    @discardableResult
    func build(tag: String, extra: [String] = []) throws -> CommandResult {
        try Binary.run(try buildArguments(tag: tag, extra: extra)).check()
    }

    /// The image's layer digests, from skopeo (a reader nobody here wrote).
    func layers(_ image: String) throws -> [String] {
        let archive = dir.appending(path: "layers-\(UUID().uuidString).tar")
        try tool.run(["save", image, "--format", "oci-archive", "-o", archive.path]).check()
        let inspect = try Command.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive.path)"]).check()
        let manifest = try JSONSerialization.jsonObject(with: inspect.stdoutData) as! [String: Any]
        return (manifest["layers"] as! [[String: Any]]).map { $0["digest"] as! String }
    }

    /// The image's root file system as umoci unpacks it.
    func unpack(_ image: String) throws -> URL {
        let archive = dir.appending(path: "unpack-\(UUID().uuidString).tar")
        try tool.run(["save", image, "--format", "oci-archive", "-o", archive.path]).check()
        let layout = dir.appending(path: "layout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: layout, withIntermediateDirectories: true)
        try Command.run("tar", ["-xf", archive.path, "-C", layout.path]).check()
        let index = try String(contentsOf: layout.appending(path: "index.json"), encoding: .utf8)
        let reference = index.components(separatedBy: "\"org.opencontainers.image.ref.name\":\"")[1].components(separatedBy: "\"")[0]
        let bundle = dir.appending(path: "bundle-\(UUID().uuidString)")
        try Command.run("umoci", ["unpack", "--image", "\(layout.path):\(reference)", bundle.path]).check()
        return bundle.appending(path: "rootfs")
    }
}
