import Foundation
import Support
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The quick cases of scripts/faults.sh (the fault matrix), on the small fixture: a full disk,
/// concurrent writers and gc on one store, and a build killed with -9 then run again.
@Suite(.serialized)
struct FaultTests {
    /// A store on a 2 MiB tmpfs: the fixture's image (over 3 MiB of incompressible jars) cannot fit.
    @Test func aFullDiskGivesAClearErrorAndLeavesAConsistentStore() throws {
        guard try Root.require() else { return }
        try Built.with { built in
            let small = built.dir.appending(path: "small")
            try FileManager.default.createDirectory(at: small, withIntermediateDirectories: true)
            try Command.run("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", small.path]).check()
            defer { _ = try? Command.run("umount", [small.path]) }
            let tool = Tool(store: small.appending(path: "store"))

            let build = try tool.run(buildArguments(built, tag: "full"))
            #expect(!build.succeeded, "\(build)")
            #expect(build.stderr.lowercased().contains("no space"), "\(build)")
            #expect(build.stderr.contains(tool.store.path), "the error names the store: \(build)")
            #expect(!build.stderr.contains("Fatal error"), "\(build)")

            try tool.expectConsistentStore().check()
            #expect(try misnamedBlobs(in: tool.store) == [], "nothing half-written under a final name")
            #expect(!(try tool.run(["images"]).check().stdout.contains("spark:full")), "nothing tagged")
        }
    }

    /// Two builds of the same image under two tags and a gc, at once, three rounds: every round
    /// both tags are there, valid, and the image a build alone makes. gc starts once the builds
    /// have stored blobs that no tag names yet (what a gc without the writers' lock deletes).
    @Test func twoBuildsAndGarbageCollectionShareOneStore() throws {
        try Built.with { built in
            let expected = try uninterruptedBuild(built, tag: "a")

            for round in 1...3 {
                for tag in ["a", "b"] { _ = try built.tool.run(["rmi", "localhost:5000/spark/spark:\(tag)"]) }
                try built.tool.run(["gc"]).check()
                let builds = try [
                    Background(built.tool, buildArguments(built, tag: "a")),
                    Background(built.tool, buildArguments(built, tag: "b")),
                ]
                let blobs = built.tool.store.appending(path: "blobs/sha256")
                let stored = builds[0].waitUntil(timeout: .seconds(120)) { hasEntries(blobs) }
                let gc = try Background(built.tool, ["gc"])
                #expect(stored, "round \(round): the builds stored a blob before gc started")
                for result in (builds + [gc]).map({ $0.wait() }) { #expect(result.succeeded, "round \(round): \(result)") }
                try built.tool.expectConsistentStore().check()
                #expect(try built.tool.manifestDigest("localhost:5000/spark/spark:a") == expected, "round \(round)")
                #expect(try built.tool.manifestDigest("localhost:5000/spark/spark:b") == expected, "round \(round)")
            }
        }
    }

    /// A build killed with -9 while a blob is being written (something in ingest/), then the same
    /// build again: it succeeds, the store verifies, and the image is an uninterrupted build's.
    @Test func aBuildKilledMidBlobIsRebuiltIdentically() throws {
        try Built.with { built in
            let expected = try uninterruptedBuild(built, tag: "k")

            let build = try Background(built.tool, buildArguments(built, tag: "k"))
            let ingest = built.tool.store.appending(path: "ingest")
            let writing = build.waitUntil(timeout: .seconds(120)) { hasEntries(ingest) }
            build.kill()
            let killed = build.wait()
            #expect(writing, "the build was writing a blob when killed: \(killed)")
            #expect(killed.status == SIGKILL, "\(killed)")

            try built.tool.run(buildArguments(built, tag: "k")).check()
            try built.tool.expectConsistentStore().check()
            #expect(try built.tool.manifestDigest("localhost:5000/spark/spark:k") == expected)
            #expect(try misnamedBlobs(in: built.tool.store) == [])
        }
    }

    /// Adds a 16 MiB jar of random bytes (so a build is still writing when a test acts on it),
    /// builds into a store of its own, and returns the manifest digest.
    private func uninterruptedBuild(_ built: Built, tag: String) throws -> String {
        let jar = built.spark.home.appending(path: "jars/big.jar")
        try Command.run("dd", ["if=/dev/urandom", "of=\(jar.path)", "bs=1M", "count=16", "status=none"]).check()
        let reference = Tool(store: built.dir.appending(path: "reference"))
        try reference.run(buildArguments(built, tag: tag)).check()
        return try reference.manifestDigest("localhost:5000/spark/spark:\(tag)")
    }

    private func hasEntries(_ dir: URL) -> Bool {
        !((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).isEmpty
    }

    private func buildArguments(_ built: Built, tag: String) -> [String] {
        ["build", "--spark-home", built.spark.home.path, "-r", "localhost:5000/spark", "-t", tag, "--base", "rootfs:\(built.base.path)"]
    }

    /// Files under blobs/sha256 whose content does not hash to their name.
    private func misnamedBlobs(in store: URL) throws -> [String] {
        let dir = store.appending(path: "blobs/sha256")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return try names.filter { name in
            SHA256Hex.of(Array(try Data(contentsOf: dir.appending(path: name)))) != name
        }
    }
}

/// Tests that mount file systems need root: skipped (announced) locally without it, failed in CI.
private enum Root {
    struct Required: Error, CustomStringConvertible {
        var description: String { "this test mounts a tmpfs and needs root, which CI=true requires" }
    }

    static func require(file: String = #fileID, line: Int = #line) throws -> Bool {
        if getuid() == 0 { return true }
        if TestServices.isCI() { throw Required() }
        FileHandle.standardError.write(Data("SKIPPED: not root, cannot mount a tmpfs (\(file):\(line))\n".utf8))
        return false
    }
}

/// The tool running in the background, with its output in files, for tests that run several
/// commands at once or kill one.
private final class Background {
    let process = Process()
    let output: TemporaryDirectory
    let arguments: [String]

    init(_ tool: Tool, _ arguments: [String]) throws {
        self.arguments = arguments + ["--store", tool.store.path]
        output = try TemporaryDirectory(prefix: "sit-bg")
        FileManager.default.createFile(atPath: output.path("stdout").path, contents: nil)
        FileManager.default.createFile(atPath: output.path("stderr").path, contents: nil)
        process.executableURL = URL(fileURLWithPath: try Binary.path())
        process.arguments = self.arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: output.path("stdout"))
        process.standardError = try FileHandle(forWritingTo: output.path("stderr"))
        try process.run()
    }

    deinit { output.remove() }

    /// Polls `condition` every millisecond until it holds (true) or the process ends or `timeout`
    /// passes (false).
    func waitUntil(timeout: Duration, _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(1_000)
        }
        return condition()
    }

    func kill() { Glibc.kill(process.processIdentifier, SIGKILL) }

    /// Waits for the end, at most ten minutes (then kills it: a hang must not hang the suite).
    func wait() -> CommandResult {
        let deadline = ContinuousClock.now + .seconds(600)
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning { kill() }
        process.waitUntilExit()
        return CommandResult(
            executable: Binary.name, arguments: arguments, status: process.terminationStatus,
            stdoutData: (try? Data(contentsOf: output.path("stdout"))) ?? Data(),
            stderrData: (try? Data(contentsOf: output.path("stderr"))) ?? Data(),
            timedOut: false)
    }
}
