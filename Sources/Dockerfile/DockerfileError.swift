import Support

/// A problem in a Dockerfile, located at the line where its instruction starts.
public struct DockerfileError: HintedError, Equatable, Sendable {
    public var file: String
    public var line: Int
    public var message: String
    public var hint: String?

    public init(file: String, line: Int, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.message = message
        self.hint = hint
    }

    public var description: String {
        let located = "\(file):\(line): \(message)"
        guard let hint else { return located }
        return located + "\n  hint: \(hint)"
    }
}

/// A problem found inside one instruction. Helpers throw it without knowing
/// where they are; the loop over instructions adds the file and line.
struct Problem: Error, Equatable {
    var message: String
    var hint: String?

    init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    func at(_ file: String, line: Int) -> DockerfileError {
        DockerfileError(file: file, line: line, message: message, hint: hint)
    }
}
