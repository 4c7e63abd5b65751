import Foundation

/// Read-only questions about the files below a distribution's root.
struct Disk: Sendable {
    let root: String

    func path(_ relative: String) -> String {
        relative.isEmpty ? root : root + "/" + relative
    }

    func isDirectory(_ relative: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path(relative), isDirectory: &isDirectory) && isDirectory.boolValue
    }

    func isFile(_ relative: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path(relative), isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Names in a directory, sorted; empty when it cannot be read.
    func list(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path(relative))) ?? []).sorted()
    }

    func read(_ relative: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path(relative)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The `spark-*.jar` files of a directory, as docker-image-tool.sh counts them.
    func sparkJars(in relative: String) -> [String] {
        list(relative).filter { $0.hasPrefix("spark-") && $0.hasSuffix(".jar") && isFile(relative + "/" + $0) }
    }
}
