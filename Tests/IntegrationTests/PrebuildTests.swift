import Foundation
import Testing

/// The COPYs after a RUN are built while the RUN runs (ImageBuilder+Prebuild): the guess is
/// taken only when its key matches, so the image is the one a plain build makes, a RUN that
/// changes what a COPY depends on gets a correct layer, and a failing RUN leaves nothing running.
@Suite(.serialized)
struct PrebuildTests {
    /// The COPY's layer is ready when the RUN ends; the image equals one whose COPY was built after
    /// a cached RUN (in another store), and `-n` prebuilds again rather than take the store's layer.
    @Test func theCopyAfterARunIsPrebuiltAndTheImageIsTheSame() throws {
        try RunFixture.with { fixture in
            let dockerfile = """
                FROM \(fixture.baseReference)
                RUN sleep 3

                """
            try fixture.dockerfile(dockerfile + "COPY jars /opt/spark/jars\n")
            let prebuilt = try fixture.build(tag: "prebuilt")
            #expect(prebuilt.output.contains("[prebuild] built 1 layer of the COPYs after line 2 while its RUN ran"), "\(prebuilt.output)")
            #expect(prebuilt.output.contains("(1 built, 1 cached)"), "the RUN is built, the COPY found ready: \(prebuilt.output)")

            let plain = Tool(store: fixture.dir.appending(path: "plain-store"))
            try fixture.dockerfile(dockerfile)
            try plain.run(Array(try fixture.buildArguments(tag: "run-only").dropLast(2))).check()
            try fixture.dockerfile(dockerfile + "COPY jars /opt/spark/jars\n")
            let reference = try plain.run(Array(try fixture.buildArguments(tag: "plain").dropLast(2))).check()
            #expect(!reference.output.contains("[prebuild]"), "a cached RUN prebuilds nothing: \(reference.output)")
            #expect(try fixture.tool.manifestDigest("spark:prebuilt") == plain.manifestDigest("spark:plain"))

            let again = try fixture.build(tag: "no-cache", extra: ["-n"])
            #expect(again.output.contains("[prebuild] built 1 layer"), "-n builds the COPY itself, if ahead: \(again.output)")
            #expect(try fixture.tool.manifestDigest("spark:no-cache") == plain.manifestDigest("spark:plain"))
            #expect(try fixture.tool.expectConsistentStore().succeeded)
        }
    }

    /// The RUN makes the `--chown` user and changes a parent directory of a COPY: the guesses
    /// made before it miss, and the layers carry the RUN's owner and mode.
    @Test func aRunThatChangesWhatACopyDependsOnMissesTheGuess() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN echo "app:x:1234:1234::/:/bin/sh" >> /etc/passwd && echo "app:x:1234:" >> /etc/group \\
                    && mkdir -p /opt/spark && chmod 700 /opt/spark && sleep 2
                COPY jars /opt/spark/jars
                COPY --chown=app:app bin /opt/spark/bin

                """)
            let build = try fixture.build(tag: "changed")
            #expect(build.output.contains("(3 built, 0 cached)"), "no guess is taken: \(build.output)")
            let rootfs = try fixture.unpack("spark:changed")
            let spark = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "opt/spark").path)
            #expect((spark[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o700, "the RUN's mode, not the one the guess saw: \(spark)")
            let script = try FileManager.default.contentsOfDirectory(atPath: rootfs.appending(path: "opt/spark/bin").path).first ?? "none"
            let owner = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "opt/spark/bin/\(script)").path)
            #expect(owner[.ownerAccountID] as? Int == 1234 && owner[.groupOwnerAccountID] as? Int == 1234, "\(script): \(owner)")
        }
    }

    /// A RUN that fails while a large COPY is being prebuilt: the tool waits for the prebuild
    /// (nothing left half-written in ingest), tags nothing, and the store verifies.
    @Test func aFailingRunLeavesNoPrebuildBehind() throws {
        try RunFixture.with { fixture in
            try Command.run("dd", ["if=/dev/urandom", "of=\(fixture.spark.home.appending(path: "big").path)", "bs=1M", "count=48"]).check()
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN exit 3
                COPY big /opt/big
                COPY jars /opt/spark/jars

                """)
            let result = try fixture.tool.run(fixture.buildArguments(tag: "failed"))
            #expect(result.status != 0)
            #expect(result.stderr.contains("Dockerfile:2: RUN exited with status 3"), "\(result)")
            #expect(!(try fixture.tool.run(["images"]).check().stdout.contains("failed")), "nothing tagged")
            let ingest = (try? FileManager.default.contentsOfDirectory(atPath: fixture.tool.store.appending(path: "ingest").path)) ?? []
            #expect(ingest.isEmpty, "no prebuild was cut off mid-layer: \(ingest)")
            #expect(try fixture.tool.expectConsistentStore().succeeded)
        }
    }
}
