import Foundation
import Glibc
import Testing
@testable import Runtime

/// The whole path with the real runtimes: namespaces, overlay, crun/runc, upper-directory diff.
/// Rootless runs go through RuntimeProbe as another user (setpriv): `nobody`, which has no
/// /etc/subuid range, and `sit-rootless`, which scripts/bootstrap.sh gives one.
@Suite(.serialized)
struct RunBundleTests {
    enum Mode: String, CaseIterable, Sendable {
        case root, rootless
        case rootlessWithRanges = "rootless-ranges"

        /// Who runs the probe; nil: this process's user (root).
        var account: Account? {
            switch self {
            case .root: nil
            case .rootless: .nobody
            case .rootlessWithRanges: .rootlessWithRanges
            }
        }
    }

    static let modes = Mode.allCases.flatMap { mode in OCIRuntime.Kind.allCases.map { (mode, $0) } }

    @Test(arguments: modes)
    func runsOverAnOverlayAndDiffsTheUpperDirectory(_ mode: Mode, _ kind: OCIRuntime.Kind) throws {
        guard try RuntimeAvailability.check(kind, mode) else { return }
        try Scratch.with(owner: mode.account) { dir in
            let lower = try BusyboxRoot.make(in: dir, owner: mode.account)
            let before = try TreeFingerprint.of(lower)
            let result = try Probe.run(
                dir: dir, lower: lower, kind: kind, mode: mode,
                command: ["/bin/sh", "-c", "echo hi; mkdir /x; echo data >/x/f; rm /bin/ls; echo err >&2; exit 3"])
            // Both streams arrive; their order is the program's (busybox buffers stdout on a pipe).
            #expect(result.lines.sorted() == ["err", "hi"])
            #expect(result.status == 3)
            // No /proc, /dev, /sys or /etc/resolv.conf placeholders: only what the command did.
            #expect(result.changes == [
                "bin dir 0 0", "bin/ls whiteout 0 0", "x dir 0 0", "x/f file:5 0 0",
            ])
            #expect(try TreeFingerprint.of(lower) == before)
        }
    }

    /// The RUN writes through /proc/self/root, and swaps a mount point's parent for a symlink to
    /// a host directory where our cleanup and diff would otherwise remove and read things.
    @Test(arguments: modes)
    func anEscapingRunChangesNothingOutsideItsUpperDirectory(_ mode: Mode, _ kind: OCIRuntime.Kind) throws {
        guard try RuntimeAvailability.check(kind, mode) else { return }
        try Scratch.with(owner: mode.account) { dir in
            let owner = mode.account
            let lower = try BusyboxRoot.make(in: dir, owner: owner)
            let host = dir.appending(path: "host")
            try FileManager.default.createDirectory(at: host.appending(path: "tmp"), withIntermediateDirectories: true)
            try Data("keep".utf8).write(to: host.appending(path: "file"))
            try Scratch.chown(host, to: owner)
            let before = try TreeFingerprint.of(host)
            let lowerBefore = try TreeFingerprint.of(lower)
            let script = """
                echo pwned > /proc/self/root/escaped
                mv /work /work.moved && ln -s \(host.path) /work && echo swapped
                ln -s \(host.path)/file /link; echo overwritten > /link
                exit 0
                """
            let result = try Probe.run(dir: dir, lower: lower, kind: kind, mode: mode, tmpfs: "/work/tmp", command: ["/bin/sh", "-c", script])
            #expect(result.status == 0)
            #expect(result.lines.contains("swapped"))
            #expect(try TreeFingerprint.of(host) == before)
            #expect(try TreeFingerprint.of(lower) == lowerBefore)
            #expect(!FileManager.default.fileExists(atPath: "/escaped"))
            #expect(result.changes.contains("escaped file:6 0 0"))
            #expect(result.changes.contains("work symlink:\(host.path) 0 0"))
            #expect(!result.changes.contains { $0.hasPrefix("work/") })
        }
    }
}

extension RunBundleTests {
    /// With a subordinate range, ids other than root exist inside: a chown to 1000 lands on the
    /// range's host id and reads back as 1000.
    @Test(arguments: OCIRuntime.Kind.allCases)
    func otherOwnersMapThroughTheSubordinateRange(_ kind: OCIRuntime.Kind) throws {
        guard try RuntimeAvailability.check(kind, .rootlessWithRanges) else { return }
        let account = try #require(Mode.rootlessWithRanges.account)
        try Scratch.with(owner: account) { dir in
            let lower = try BusyboxRoot.make(in: dir, owner: account)
            let result = try Probe.run(
                dir: dir, lower: lower, kind: kind, mode: .rootlessWithRanges,
                command: ["/bin/sh", "-c", "mkdir /x && echo data >/x/f && chown 1000:1001 /x/f"])
            #expect(result.status == 0, "\(result.lines)")
            #expect(result.changes == ["x dir 0 0", "x/f file:5 1000 1001"])
            let attributes = try FileManager.default.attributesOfItem(atPath: dir.appending(path: "upper/x/f").path)
            #expect(attributes[.ownerAccountID] as? Int == 300_000 + 999)
        }
    }
}

/// An overlay that cannot be mounted is named, with what RUN needs; the runtime never starts
/// (here it is /bin/false, so nothing else could have failed). Rootless, so any user can run it.
@Test func anOverlayThatCannotBeMountedIsReported() throws {
    try Scratch.with(owner: nil) { dir in
        let runner = BundleRunner(runtime: OCIRuntime(kind: .runc, path: "/bin/false"), scratchDir: dir.appending(path: "scratch").path)
        let spec = BundleSpec(
            args: ["/bin/true"], env: [], rootPath: "rootfs",
            rootless: RootlessIDs(uid: Int(getuid()), gid: Int(getgid()), userName: nil, subuid: nil, subgid: nil))
        var lines: [String] = []
        let upper = dir.appending(path: "upper").path
        #expect {
            _ = try runner.run(spec, lowerDirs: [dir.appending(path: "no-such-lower").path], upperDir: upper) { lines.append($0) }
        } throws: { error in
            let error = error as? RuntimeError
            return error?.message == "overlayfs could not be mounted for \(upper)" && error?.hint?.contains("user namespaces") == true
        }
        #expect(lines.contains { $0.contains("cannot mount overlayfs") })
    }
}

/// A runtime that is not installed: a recorded skip locally, a failure in CI.
enum RuntimeAvailability {
    struct Missing: Error, CustomStringConvertible {
        var kind: OCIRuntime.Kind
        var description: String {
            "\(kind.rawValue), setpriv, newuidmap or the sit-rootless user is missing but CI=true: scripts/bootstrap.sh makes them"
        }
    }

    static func check(_ kind: OCIRuntime.Kind, _ mode: RunBundleTests.Mode) throws -> Bool {
        let ranges = mode != .rootlessWithRanges || (Account.rootlessWithRanges != nil && Executable.find("newuidmap") != nil)
        if (try? OCIRuntime.locate(preferring: [kind])) != nil, Executable.find("setpriv") != nil, ranges { return true }
        let ci = ProcessInfo.processInfo.environment["CI"]?.lowercased()
        if ci == "true" || ci == "1" || ci == "yes" { throw Missing(kind: kind) }
        FileHandle.standardError.write(Data(
            "SKIPPED: \(kind.rawValue), setpriv, newuidmap or the sit-rootless user missing; run scripts/bootstrap.sh\n".utf8))
        return false
    }
}

/// What RuntimeProbe reported.
struct ProbeResult {
    var lines: [String] = []
    var status: Int32?
    var changes: [String] = []
}

enum Probe {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "RuntimeProbe")
    }

    static func run(
        dir: URL, lower: URL, kind: OCIRuntime.Kind, mode: RunBundleTests.Mode, tmpfs: String = "-", command: [String]
    ) throws -> ProbeResult {
        let upper = dir.appending(path: "upper"), scratch = dir.appending(path: "scratch")
        for directory in [upper, scratch] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Scratch.chown(directory, to: mode.account)
        }
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "\(binary.path) missing: run swift build first (scripts/test.sh does)")
        var arguments = [binary.path, lower.path, upper.path, scratch.path, kind.rawValue, mode.rawValue, tmpfs, "--"] + command
        if let account = mode.account {
            arguments = [try #require(Executable.find("setpriv")), "--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups"]
                + arguments
        }
        var output: [String] = []
        let exit = try ProcessRunner.run(arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]) { output.append($0) }
        #expect(exit == 0, "RuntimeProbe: \(output.joined(separator: "\n"))")
        // Bundle, overlay work directory and runtime state are gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == [])
        var result = ProbeResult()
        for line in output {
            if line.hasPrefix("line: ") { result.lines.append(String(line.dropFirst(6))) }
            if line.hasPrefix("status: ") { result.status = Int32(line.dropFirst(8)) }
            if line.hasPrefix("change: ") { result.changes.append(String(line.dropFirst(8))) }
        }
        return result
    }
}
