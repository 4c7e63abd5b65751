import Support

/// Errors from reading or writing archives and compressed streams. The message names the file.
public struct ArchiveError: HintedError, Equatable, Sendable {
    public var path: String?
    public var message: String
    public var hint: String?

    public init(path: String?, _ message: String, hint: String? = nil) {
        self.path = path
        self.message = message
        self.hint = hint
    }

    public var description: String {
        let located = path.map { "\($0): \(message)" } ?? message
        return hint.map { "\(located)\n  hint: \($0)" } ?? located
    }
}
