/// Errors of a build that are not already another module's error. Each names the path,
/// instruction or reference at fault and, where one exists, the fix.
public struct BuildError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message)\n  hint: \($0)" } ?? message }

    /// Prefixes the Dockerfile location of the instruction that failed.
    func at(_ file: String, line: Int) -> BuildError {
        BuildError("\(file):\(line): \(message)", hint: hint)
    }
}
