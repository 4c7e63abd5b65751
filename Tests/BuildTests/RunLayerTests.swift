import Archive
@testable import Build
import Dockerfile
import Foundation
import Runtime
import Store
import Synchronization
import Testing

/// The RUN executor sketch with the real runtime, as root, over a busybox tree as the parent.
@Suite(.serialized)
struct RunLayerTests {
    @Test func theLayerHoldsWhatTheCommandChangedAndACacheHitStartsNoRuntime() throws {
        guard let runtime = try Self.runtime() else { return }
        try Self.withStore { store, lower in
            let step = RunStep(
                command: ["/bin/sh", "-c", "mkdir /x; echo data >/x/f; ln /x/f /x/g; rm /bin/ls; echo made x"],
                environment: ["PATH=/bin"], platform: "linux/amd64")
            let settings = LayerSettings(epoch: 1234)
            let output = Output()
            let events: BuildEventHandler = { if case .runOutput(let line, let text) = $0 { output.lines.withLock { $0.append("\(line): \(text)") } } }
            let builder = RunLayerBuilder(store: store, settings: settings, events: events, runtime: runtime, rootless: nil)
            let built = try builder.build(step, parentDiffIDs: [], line: 3, description: "RUN", id: 1) { Self.inputs(lower) }
            #expect(!built.cached)
            #expect(try Self.entries(store.blobPath(built.layer.digest)) == [
                "bin directory 493 1234", "bin/.wh.ls file(size: 0) 0 1234", "x directory 493 1234",
                "x/f file(size: 5) 420 1234", "x/g hardlink(target: \"x/f\") 420 1234",
            ])
            #expect(output.lines.withLock { $0 } == ["3: made x"])
            let noRuntime = RunLayerBuilder(
                store: store, settings: settings, events: events, runtime: OCIRuntime(kind: .runc, path: "/bin/false"), rootless: nil)
            let again = try noRuntime.build(step, parentDiffIDs: [], line: 3, description: "RUN", id: 2) { Self.inputs(lower) }
            #expect(again.cached && again.layer == built.layer)
            var other = step
            other.environment.append("A=1")
            #expect(throws: BuildError.self) {
                try noRuntime.build(other, parentDiffIDs: [], line: 3, description: "RUN", id: 3) { Self.inputs(lower) }
            }
        }
    }

    @Test func aFailingRunNamesItsStatusAndTheEndOfItsOutput() throws {
        guard let runtime = try Self.runtime() else { return }
        try Self.withStore { store, lower in
            let script = "i=0; while [ $i -lt 25 ]; do echo out$i; i=$((i+1)); done; exit 3"
            let step = RunStep(command: ["/bin/sh", "-c", script], environment: ["PATH=/bin"], platform: "linux/amd64")
            let builder = RunLayerBuilder(store: store, settings: LayerSettings(), events: { _ in }, runtime: runtime, rootless: nil)
            #expect {
                try builder.build(step, parentDiffIDs: [], line: 7, description: "RUN", id: 1) { Self.inputs(lower) }
            } throws: { error in
                let message = (error as? BuildError)?.message ?? ""
                let tail = (5...24).map { "  | out\($0)" }.joined(separator: "\n")
                return message.hasPrefix("RUN exited with status 3: /bin/sh -c i=0") && message.hasSuffix("\n" + tail)
                    && !message.contains("| out4\n")
            }
        }
    }

    static let passwd = "root:x:0:0:root:/root:/bin/sh\nspark:x:185:185::/opt/spark:/bin/sh\n# comment\nnobody:x:65534:65534::/:/bin/false\n"
    static let group = "root:x:0:\nspark:x:185:\nusers:x:100:spark\n"

    @Test(arguments: [
        ("root", 0, 0), ("0", 0, 0), ("spark", 185, 185), ("185", 185, 185), ("186", 186, 0), ("spark:users", 185, 100),
        ("185:0", 185, 0), ("nobody:spark", 65534, 185), ("0:5", 0, 5),
    ] as [(String, Int, Int)])
    func usersResolveAsDockerResolvesThem(_ user: String, _ uid: Int, _ gid: Int) throws {
        let ids = try UserDatabase(passwd: Self.passwd, group: Self.group).resolve(user, what: "USER")
        #expect(ids.uid == uid && ids.gid == gid)
    }

    @Test(arguments: ["alice", "spark:wheel", "-1", "alice:0"])
    func unknownNamesAreRefusedWithAHint(_ user: String) {
        #expect(throws: BuildError.self) { try UserDatabase(passwd: Self.passwd, group: Self.group).resolve(user, what: "USER") }
    }

    @Test func anImageWithoutPasswdStillKnowsRoot() throws {
        let ids = try UserDatabase(passwd: "", group: "").resolve("root:root", what: "USER")
        #expect(ids.uid == 0 && ids.gid == 0)
    }

    // MARK: - Fixtures

    static func inputs(_ lower: String) -> RunInputs {
        RunInputs(lowerDirs: [lower], users: UserDatabase(passwd: "", group: ""))
    }

    final class Output: Sendable {
        let lines = Mutex<[String]>([])
    }

    /// crun or runc, or nil (a recorded skip) when neither is installed; in CI a failure.
    static func runtime() throws -> OCIRuntime? {
        if let runtime = try? OCIRuntime.locate() { return runtime }
        let ci = ProcessInfo.processInfo.environment["CI"]?.lowercased()
        if ci == "true" || ci == "1" || ci == "yes" { throw BuildError("no OCI runtime but CI=true: scripts/bootstrap.sh installs crun and runc") }
        FileHandle.standardError.write(Data("SKIPPED: no crun or runc; run scripts/bootstrap.sh\n".utf8))
        return nil
    }

    /// A store and a parent tree of Debian's static busybox (sh and ls), both removed afterwards.
    static func withStore(_ body: (Store, String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "sit-runlayer-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/lower/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: "\(dir)/lower/bin/busybox")
        for applet in ["sh", "ls", "mkdir", "rm", "ln", "echo"] {
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/lower/bin/\(applet)", withDestinationPath: "busybox")
        }
        try body(try Store(root: "\(dir)/store"), "\(dir)/lower")
    }

    /// `path kind mode mtime` of each entry of a layer blob, in order.
    static func entries(_ blob: String) throws -> [String] {
        let reader = try TarReader(path: blob)
        var entries: [String] = []
        while let entry = try reader.next() {
            let path = entry.path.hasSuffix("/") ? String(entry.path.dropLast()) : entry.path
            entries.append("\(path) \(entry.kind) \(entry.mode) \(entry.mtime)")
        }
        return entries
    }
}
