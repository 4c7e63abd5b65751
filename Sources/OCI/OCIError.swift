import Support

/// Errors from parsing OCI values. Each message names the offending text.
public enum OCIError: HintedError, Equatable, Sendable {
    case invalidDigest(String, reason: String)
    case invalidReference(String, reason: String)
    case invalidPlatform(String)

    public var hint: String? { nil }

    public var message: String {
        switch self {
        case .invalidDigest(let text, let reason):
            "invalid digest '\(text)': \(reason)"
        case .invalidReference(let text, let reason):
            "invalid image reference '\(text)': \(reason)"
        case .invalidPlatform(let text):
            "invalid platform '\(text)': expected OS/ARCH[/VARIANT], for example linux/amd64"
        }
    }
}
