import Foundation
import Testing
@testable import Runtime

/// What the user namespace is asked to chown and chmod for a rootless snapshot.
@Suite struct SubordinateOwnersTests {
    static let ranged = RootlessIDs(uid: 1000, gid: 1000, userName: "me", subuid: "me:100000:1000\n", subgid: "me:100000:1000\n")

    @Test func noRangeNoOwners() {
        #expect(SubordinateOwners(RootlessIDs(uid: 1000, gid: 1000, userName: "me", subuid: nil, subgid: nil)) == nil)
        #expect(SubordinateOwners(nil) == nil)
        #expect(SubordinateOwners(Self.ranged) != nil)
    }

    @Test func groupsOwnersSkipsRootUnmappedAndUnreachablePaths() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "owners-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for dir in ["opt/spark/work-dir", "usr/bin", "real"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(dir)", withIntermediateDirectories: true)
        }
        for file in ["usr/bin/chage", "etc-shadow", "real/inside"] {
            FileManager.default.createFile(atPath: "\(directory)/\(file)", contents: Data())
        }
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/link", withDestinationPath: "real")
        let owners = try #require(SubordinateOwners(Self.ranged))
        let commands = owners.commands([
            .init(path: "opt/spark/work-dir", uid: 185, gid: 0, mode: 0o775),
            .init(path: "opt/spark", uid: 185, gid: 0, mode: 0o755),
            .init(path: "usr/bin/chage", uid: 0, gid: 42, mode: 0o2755),
            .init(path: "etc-shadow", uid: 0, gid: 42, mode: 0o640),
            .init(path: "usr/bin", uid: 0, gid: 0, mode: 0o755),
            .init(path: "link/inside", uid: 185, gid: 185, mode: 0o644),
            .init(path: "missing", uid: 185, gid: 185, mode: 0o644),
            .init(path: "real", uid: 5000, gid: 5000, mode: 0o755),
        ], in: directory)
        let flat = commands.map { "\($0.command) \($0.argument) \($0.paths.joined(separator: ","))" }
        #expect(flat == [
            "chown 0:42 usr/bin/chage,etc-shadow",
            "chown 185:0 opt/spark/work-dir,opt/spark",
            "chmod 2755 usr/bin/chage",
        ], "root's stay, ids past the range stay root's, nothing through a symlink or missing")
    }
}
