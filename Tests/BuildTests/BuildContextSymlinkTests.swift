import Archive
import Foundation
import Spark
import Testing
@testable import Build

/// Nothing is read through a symlinked parent directory: one inside the context resolves there,
/// one that leaves a build context is refused, and in an unpacked image one resolves inside the image.
struct BuildContextSymlinkTests {
    /// dir/context: real/f, alias -> real, out -> dir/outside, up -> ../outside, root-link -> /;
    /// dir/outside/secret.
    func withContext(_ body: (URL, BuildContext) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("context-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let context = dir.appendingPathComponent("context")
        let manager = FileManager.default
        try manager.createDirectory(at: context.appendingPathComponent("real"), withIntermediateDirectories: true)
        try manager.createDirectory(at: dir.appendingPathComponent("outside"), withIntermediateDirectories: true)
        try Data("inside\n".utf8).write(to: context.appendingPathComponent("real/f"))
        try Data("host secret\n".utf8).write(to: dir.appendingPathComponent("outside/secret"))
        try Data("image\n".utf8).write(to: context.appendingPathComponent("secret"))
        for (name, target) in [("alias", "real"), ("out", dir.appendingPathComponent("outside").path), ("up", "../outside"), ("root-link", "/")] {
            try manager.createSymbolicLink(atPath: context.appendingPathComponent(name).path, withDestinationPath: target)
        }
        try body(dir, BuildContext(mounts: [ContextMount(contextPath: "", source: .directory(path: context.path, excluding: []))]))
    }

    func diskPath(_ item: SourceItem?) -> String? {
        if case .checkedFile(let path, _) = item?.contents { return path }
        return nil
    }

    @Test func aSymlinkedParentInsideTheContextResolvesThere() throws {
        try withContext { dir, context in
            let item = try context.item(at: "alias/f")
            #expect(item?.contextPath == "alias/f")
            #expect(diskPath(item) == dir.appendingPathComponent("context/real/f").path)
            #expect(try context.children(of: "alias") == ["f"])
        }
    }

    @Test(arguments: ["out/secret", "up/secret", "root-link/etc/passwd"])
    func aSymlinkedParentLeavingTheContextIsRefused(path: String) throws {
        try withContext { _, context in
            let link = String(path.split(separator: "/")[0])
            #expect {
                _ = try context.item(at: path)
            } throws: { error in
                "\(error)".contains("symlink '\(link)' -> '") && "\(error)".contains("points outside the build context")
            }
            #expect(throws: BuildError.self) { _ = try context.children(of: link) }
        }
    }

    @Test func inAnUnpackedImageAnAbsoluteSymlinkResolvesInsideTheImage() throws {
        try withContext { dir, context in
            var image = context
            image.isUnpacked = true
            let secret = try image.item(at: "root-link/secret")
            let passwd = try image.item(at: "root-link/etc/passwd")
            #expect(diskPath(secret) == dir.appendingPathComponent("context/secret").path)
            #expect(passwd == nil, "the host's /etc/passwd is not the image's")
        }
    }
}
