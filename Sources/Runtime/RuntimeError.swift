/// A failure to set up or run a bundle, naming the path or program at fault, with a fix.
// TODO(support): conform to the Support module's HintedError once it lands.
public struct RuntimeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message)\n  hint: \($0)" } ?? message }
}
