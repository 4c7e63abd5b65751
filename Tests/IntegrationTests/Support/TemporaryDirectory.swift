import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under `$TMPDIR` for one test. Remove it with `defer { dir.remove() }`, or use
/// `TemporaryDirectory.with { url in … }`, which removes it however the body ends.
struct TemporaryDirectory: Sendable {
    let url: URL

    init(prefix: String = "sit-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "\(base)/\(prefix).XXXXXX"])
        }
        url = URL(fileURLWithPath: String(cString: made), isDirectory: true)
    }

    /// `url` + a relative path.
    func path(_ relative: String) -> URL { url.appending(path: relative) }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    static func with<T>(prefix: String = "sit-test", _ body: (URL) throws -> T) throws -> T {
        let dir = try TemporaryDirectory(prefix: prefix)
        defer { dir.remove() }
        return try body(dir.url)
    }

    static func with<T>(prefix: String = "sit-test", _ body: (URL) async throws -> T) async throws -> T {
        let dir = try TemporaryDirectory(prefix: prefix)
        defer { dir.remove() }
        return try await body(dir.url)
    }
}
