import Support

public enum RuntimeFailure {}

/// A failure to set up or run a bundle, naming the path or program at fault, with a fix.
public typealias RuntimeError = ModuleError<RuntimeFailure>

extension RuntimeError {
    /// `message: <the C library's words for errno>`.
    static func errno(_ message: String) -> RuntimeError {
        RuntimeError("\(message): \(errnoDescription())")
    }
}
