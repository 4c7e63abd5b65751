import Support

public enum BuildFailure {}

/// Errors of a build that are not already another module's error. Each names the path,
/// instruction or reference at fault and, where one exists, the fix.
public typealias BuildError = ModuleError<BuildFailure>

extension BuildError {
    /// Prefixes the Dockerfile location of the instruction that failed.
    func at(_ file: String, line: Int) -> BuildError {
        BuildError("\(file):\(line): \(message)", hint: hint, kind: failureKind)
    }
}
