/// The one error shape across modules: what happened, naming the path, line, reference or
/// status at fault, and where one exists, what to do about it.
public protocol HintedError: Error, CustomStringConvertible {
    var message: String { get }
    var hint: String? { get }
    /// What kind of failure this is, so the CLI can choose its exit status in one place.
    var failureKind: FailureKind { get }
}

/// The kinds of failure a script around the tool may want to tell apart.
public enum FailureKind: Sendable, Equatable {
    /// Bad input: a file, reference, name or option the user gave.
    case userError
    /// A registry or daemon could not be reached (connection refused, unknown host, timeout).
    case unreachable
    /// Content that does not match its digest, or a store that fails its check.
    case verification
}

extension HintedError {
    public var description: String { hint.map { "\(message)\n  hint: \($0)" } ?? message }
    public var failureKind: FailureKind { .userError }
}

/// A message and a hint, typed by the module that throws it (`Domain` is an empty marker type),
/// so each module has its own error type without writing the same struct again.
public struct ModuleError<Domain>: HintedError, Equatable, Sendable {
    public var message: String
    public var hint: String?
    public var failureKind: FailureKind

    public init(_ message: String, hint: String? = nil, kind: FailureKind = .userError) {
        self.message = message
        self.hint = hint
        self.failureKind = kind
    }
}
