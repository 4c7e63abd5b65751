@testable import Build
import Foundation
import OCI
import SBOM
import Store
import Support
import Testing

/// The inventory of an image's layers: whiteouts remove what lower layers had, a file of a higher
/// layer replaces the lower one's, and jars are read as zips from inside the layer tars.
struct ImageInventoryTests {
    @Test(arguments: [
        ("opt/.wh.a.jar", "opt/a.jar", true), ("opt/.wh.a.jar", "opt/ab.jar", false), ("opt/.wh.dir", "opt/dir/x.jar", true),
        ("opt/.wh..wh..opq", "opt/x/y.jar", true), ("opt/.wh..wh..opq", "optx/y.jar", false), (".wh.opt", "opt/a.jar", true),
    ])
    func whiteouts(whiteout: String, path: String, covered: Bool) throws {
        #expect(try #require(Whiteout(whiteout)).covers(path) == covered)
    }

    @Test func notAWhiteout() { #expect(Whiteout("opt/a.wh.jar") == nil) }

    static func run(_ command: String, in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: command]) }
    }

    static func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Two layers made with tar: the second removes a jar and a directory of the first and replaces dpkg's status.
    @Test func laterLayersRemoveAndReplace() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "sit-inventory-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("groupId=org.example\nartifactId=a\nversion=1.0\n", "\(dir)/jar/META-INF/maven/org.example/a/pom.properties")
        try Self.write("not a zip", "\(dir)/one/opt/jars/b-2.0.jar")
        try Self.run("zip -q -r -X ../one/opt/jars/a-1.0.jar META-INF", in: "\(dir)/jar")
        try Self.write("not a zip", "\(dir)/one/opt/gone/c-3.0.jar")
        try Self.write("Package: old\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n", "\(dir)/one/var/lib/dpkg/status")
        try Self.write("", "\(dir)/two/opt/jars/.wh.b-2.0.jar")
        try Self.write("", "\(dir)/two/opt/gone/.wh..wh..opq")
        try Self.write("also not a zip", "\(dir)/two/opt/jars/d-4.0.jar")
        try Self.write("Package: new\nStatus: install ok installed\nVersion: 2\nArchitecture: arm64\n", "\(dir)/two/var/lib/dpkg/status")
        let store = try Store(root: "\(dir)/store")
        var layers: [Descriptor] = []
        for layer in ["one", "two"] {
            try Self.run("tar --create --file ../\(layer).tar --owner=0 --group=0 .", in: "\(dir)/\(layer)")
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(layer).tar")))
            layers.append(Descriptor(mediaType: MediaType.ociLayer, digest: try store.putBlob(bytes), size: Int64(bytes.count)))
        }
        let found = try ImageInventory(store: store).packages(in: layers).sorted { $0.path + $0.name < $1.path + $1.name }
        #expect(found.map(\.purl) == ["pkg:maven/org.example/a@1.0", "pkg:maven/d@4.0", "pkg:deb/debian/new@2?arch=arm64"])
        let jar = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/one/opt/jars/a-1.0.jar")))
        #expect(found.first?.sha256 == SHA256Hex.of(jar))
        #expect(found.first?.path == "/opt/jars/a-1.0.jar")
    }
}
