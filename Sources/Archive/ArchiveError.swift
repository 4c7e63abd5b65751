/// Errors from reading or writing archives and compressed streams. The message names the file.
public struct ArchiveError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String?
    public var message: String

    public init(path: String?, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.map { "\($0): \(message)" } ?? message }
}
