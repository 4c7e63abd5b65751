import Support

/// Errors from reading or writing archives and compressed streams. The message names the file.
public struct ArchiveError: HintedError, Equatable, Sendable {
    public var path: String?
    public var message: String

    public init(path: String?, _ message: String) {
        self.path = path
        self.message = message
    }

    public var hint: String? { nil }

    public var description: String { path.map { "\($0): \(message)" } ?? message }
}
