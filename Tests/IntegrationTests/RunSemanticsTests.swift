import Foundation
import Synchronization
import Testing

/// BuildKit's semantics that RUN and WORKDIR follow, on the tiny busybox base with the real OCI
/// runtime: cache mount sharing between concurrent builds on one store, the owner of a
/// directory WORKDIR makes, and shebang heredocs run as scripts.
@Suite(.serialized)
struct RunSemanticsTests {
    /// Two builds at once on one store, each RUN holding the cache for eight seconds: `locked`
    /// never lets them in together (each checks it is alone); `private` gives the second an
    /// empty directory; `shared` lets both see each other.
    @Test(arguments: ["locked", "private", "shared"])
    func cacheMountSharingBetweenConcurrentBuilds(sharing: String) throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                ARG BUILD
                RUN --mount=type=cache,id=shared-cache,target=/cache,sharing=\(sharing) \\
                    ls /cache > /seen-before; touch /cache/$BUILD; \\
                    if mkdir /cache/busy; then sleep 8; rm -r /cache/busy; echo alone > /verdict; else echo together > /verdict; fi; \\
                    ls /cache > /seen-after

                """)
            let results = Mutex<[String: CommandResult]>([:])
            @Sendable func build(_ name: String) {
                let result = try? Binary.run(try fixture.buildArguments(tag: name, extra: ["-b", "BUILD=\(name)"]))
                results.withLock { $0[name] = result }
            }
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) { build("one") }
            // "two" starts once "one" is inside its RUN, holding the cache (its busy directory is on the host).
            let cacheRoot = fixture.tool.store.appending(path: "run-cache")
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline, results.withLock({ $0["one"] == nil }) {
                let caches = (try? FileManager.default.contentsOfDirectory(atPath: cacheRoot.path)) ?? []
                if caches.contains(where: { FileManager.default.fileExists(atPath: cacheRoot.appending(path: "\($0)/busy").path) }) { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            build("two")
            group.wait()
            let finished = results.withLock { $0 }
            for build in ["one", "two"] {
                #expect(finished[build]?.succeeded == true, "\(finished[build].map(String.init(describing:)) ?? "no result")")
            }
            func read(_ build: String, _ file: String) throws -> String {
                let rootfs = try fixture.unpack("spark:\(build)")
                return String(decoding: FileManager.default.contents(atPath: rootfs.appending(path: file).path) ?? Data(), as: UTF8.self)
            }
            let verdicts = try ["one", "two"].map { try read($0, "verdict") }
            switch sharing {
            case "locked":
                #expect(verdicts == ["alone\n", "alone\n"], "a locked cache is one build's at a time")
                #expect(try read("two", "seen-before").contains("one"), "the second build waited for the first and sees its file")
            case "private":
                #expect(try read("two", "seen-before").isEmpty, "a private cache in use gives the second build an empty directory")
                #expect(verdicts == ["alone\n", "alone\n"])
            default:
                #expect(verdicts.contains("together\n"), "a shared cache is used by both at once: \(verdicts)")
                #expect(try read("two", "seen-after").contains("one"), "both builds write to the same directory")
            }
        }
    }

    /// The runtime resolves a bind source from its own directory: a cache mount of a store named
    /// by a relative path must still be found (and keep what the RUN wrote).
    @Test func aCacheMountInARelativeStore() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("FROM \(fixture.baseReference)\nRUN --mount=type=cache,target=/cache touch /cache/kept\n")
            let arguments = try fixture.buildArguments(tag: "relative").dropLast(2) + ["--store", "relative-store"]
            let result = try Binary.run(Array(arguments), currentDirectory: fixture.dir)
            #expect(result.succeeded, "\(result)")
            let caches = fixture.dir.appending(path: "relative-store/run-cache")
            let kept = ((try? FileManager.default.contentsOfDirectory(atPath: caches.path)) ?? []).filter {
                FileManager.default.fileExists(atPath: caches.appending(path: "\($0)/kept").path)
            }
            #expect(kept.count == 1, "the cache directory holds the RUN's file")
        }
    }

    /// BuildKit makes a WORKDIR's missing directories (parents too) owned by the USER in
    /// effect then; ones the image has keep their owner. Read back by umoci and docker.
    @Test func workdirIsOwnedByTheUserInEffect() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN echo "spark:x:185:185::/opt/spark:/bin/sh" >> /etc/passwd && echo "spark:x:185:" >> /etc/group && mkdir -p /opt/existing
                USER spark
                WORKDIR /opt/app/work
                WORKDIR /opt/existing
                USER root
                WORKDIR /opt/app/work/rooted
                RUN stat -c %u:%g /opt/app /opt/app/work /opt/app/work/rooted > /owners && pwd > /pwd

                """)
            try fixture.build(tag: "workdir")
            let rootfs = try fixture.unpack("spark:workdir")
            func owner(_ path: String) throws -> String {
                let attributes = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: path).path)
                return "\(attributes[.ownerAccountID] as? Int ?? -1):\(attributes[.groupOwnerAccountID] as? Int ?? -1)"
            }
            #expect(try owner("opt/app") == "185:185", "a parent WORKDIR made is the USER's too")
            #expect(try owner("opt/app/work") == "185:185")
            #expect(try owner("opt/existing") == "0:0", "an existing directory keeps its owner")
            #expect(try owner("opt/app/work/rooted") == "0:0")
            let owners = FileManager.default.contents(atPath: rootfs.appending(path: "owners").path).map { String(decoding: $0, as: UTF8.self) }
            #expect(owners == "185:185\n185:185\n0:0\n", "the RUN after the WORKDIRs sees the same owners")

            guard let docker = try TestServices.docker() else { return }
            let run = try fixture.dockerRun("spark:workdir", on: docker, options: ["--network", "none", "--entrypoint", "/bin/sh"],
                                            command: ["-c", "pwd; stat -c %u /opt/app/work"]).check()
            #expect(run.stdout == "/opt/app/work/rooted\n185\n", "\(run)")
        }
    }

    /// `RUN <<EOF` starting with `#!` runs as a script file with that interpreter (its $0 is the
    /// file, not `sh`), and `#!/bin/sh -e` stops at the first failing command.
    @Test func shebangHeredocsRunAsScripts() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN <<EOF
                #!/bin/sh
                echo "$0" > /script-name
                false
                echo "after false" > /without-e
                EOF

                """)
            try fixture.build(tag: "shebang")
            let rootfs = try fixture.unpack("spark:shebang")
            let name = FileManager.default.contents(atPath: rootfs.appending(path: "script-name").path).map { String(decoding: $0, as: UTF8.self) }
            #expect(name == "/dev/pipes/EOF\n", "the body runs as a file: \(name ?? "none")")
            #expect(FileManager.default.fileExists(atPath: rootfs.appending(path: "without-e").path))
            #expect(!FileManager.default.fileExists(atPath: rootfs.appending(path: "dev/pipes").path), "the script is in no layer")

            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                RUN <<EOF
                #!/bin/sh -e
                echo before
                false
                echo not-reached
                EOF

                """)
            let failed = try fixture.tool.run(fixture.buildArguments(tag: "shebang-e"))
            #expect(failed.status != 0)
            #expect(failed.stderr.contains("Dockerfile:2: RUN exited with status 1"), "\(failed)")
            #expect(failed.stderr.contains("  | before") && !failed.stderr.contains("not-reached"), "\(failed)")
        }
    }

    /// Rootless with a subordinate range (sit-rootless has one, from scripts/bootstrap.sh): a
    /// base file of uid 185 is 185's inside the RUN, root's files stay root's, a cache mount's
    /// uid is applied, USER 185 writes
    /// to its own directory, and what it makes is 185's in the layer; the RUN's scratch (files
    /// of a subordinate id) is removed all the same.
    @Test func rootlessRunSeesTheImageOwners() throws {
        guard let user = getpwnam("sit-rootless") else {
            if TestServices.isCI() { throw RunTests.RootlessUserMissing() }
            try Test.cancel("SKIPPED: no sit-rootless user; run scripts/bootstrap.sh")
        }
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                COPY --chown=185:185 jars /opt/owned
                RUN stat -c %u:%g /opt/owned /opt/owned/spark-core_2.13-4.3.0.jar /etc/passwd > /seen-by-root
                RUN --mount=type=cache,target=/cache,uid=185,gid=185 stat -c %u:%g /cache > /cache-owner
                USER 185
                RUN touch /opt/owned/made-by-185 && id -u > /tmp/uid \\
                    && umask 077 && mkdir /opt/owned/private && echo only-185 > /opt/owned/private/file

                """)
            try Command.run("chown", ["-R", "\(user.pointee.pw_uid):\(user.pointee.pw_gid)", fixture.dir.path]).check()
            let result = try Command.run("setpriv", ["--reuid=sit-rootless", "--regid=\(user.pointee.pw_gid)", "--init-groups",
                                                     try Binary.path()] + fixture.buildArguments(tag: "owners"),
                                         environment: ["HOME": fixture.dir.path])
            #expect(result.succeeded, "\(result)")
            let rootfs = try fixture.unpack("spark:owners")
            let seen = FileManager.default.contents(atPath: rootfs.appending(path: "seen-by-root").path).map { String(decoding: $0, as: UTF8.self) }
            #expect(seen == "185:185\n185:185\n0:0\n", "owners inside the rootless RUN are the image's: \(seen ?? "none")")
            let made = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "opt/owned/made-by-185").path)
            #expect(made[.ownerAccountID] as? Int == 185, "a file USER 185 made is 185's in the layer")
            let privateFile = try FileManager.default.attributesOfItem(atPath: rootfs.appending(path: "opt/owned/private/file").path)
            #expect(privateFile[.ownerAccountID] as? Int == 185 && privateFile[.posixPermissions] as? Int == 0o600,
                    "a 0600 file of USER 185 is read into the layer with its owner and mode")
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "opt/owned/private/file").path) == Data("only-185\n".utf8))
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "tmp/uid").path) == Data("185\n".utf8))
            #expect(FileManager.default.contents(atPath: rootfs.appending(path: "cache-owner").path) == Data("185:185\n".utf8),
                    "a cache mount's uid and gid hold rootless too")
            let ingest = (try? FileManager.default.contentsOfDirectory(atPath: fixture.tool.store.appending(path: "ingest").path)) ?? []
            #expect(ingest.isEmpty, "the RUN's scratch is removed, subordinate ids' files too: \(ingest)")
        }
    }
}

extension RunFixture {
    /// `docker run --rm OPTIONS IMAGE COMMAND` of a stored image: saved as a docker-archive,
    /// loaded into `docker`, and removed from it afterwards.
    func dockerRun(_ image: String, on docker: DockerDaemon, options: [String], command: [String]) throws -> CommandResult {
        let archive = dir.appending(path: "docker-\(UUID().uuidString).tar")
        try tool.run(["save", image, "--format", "docker-archive", "-o", archive.path]).check()
        try docker.run(["load", "-i", archive.path]).check()
        defer { _ = try? docker.run(["rmi", "-f", image]) }
        return try docker.run(["run", "--rm"] + options + [image] + command)
    }
}
