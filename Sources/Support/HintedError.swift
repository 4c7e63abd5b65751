/// The one error shape across modules: what happened, naming the path, line, reference or
/// status at fault, and where one exists, what to do about it.
public protocol HintedError: Error, CustomStringConvertible {
    var message: String { get }
    var hint: String? { get }
}

extension HintedError {
    public var description: String { hint.map { "\(message)\n  hint: \($0)" } ?? message }
}

/// A message and a hint, typed by the module that throws it (`Domain` is an empty marker type),
/// so each module has its own error type without writing the same struct again.
public struct ModuleError<Domain>: HintedError, Equatable, Sendable {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}
