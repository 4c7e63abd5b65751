import OCI
import Support

public enum StoreError: HintedError, Equatable, Sendable {
    case notALayout(String, reason: String)
    case io(String, String)
    case digestMismatch(expected: Digest, actual: Digest, source: String)
    case missingBlob(Digest)
    case corruptBlob(Digest, reason: String)
    case notFound(String)

    public var hint: String? { nil }

    public var failureKind: FailureKind {
        switch self {
        case .digestMismatch, .corruptBlob: .verification
        default: .userError
        }
    }

    public var message: String {
        switch self {
        case .notALayout(let path, let reason):
            "\(path) is not an OCI image layout: \(reason)"
        case .io(let path, let message):
            "\(path): \(message)"
        case .digestMismatch(let expected, let actual, let source):
            "digest mismatch for \(source): expected \(expected), got \(actual); the content is corrupt and was not stored"
        case .missingBlob(let digest):
            "the store has no blob \(digest); run `spark-image-tool verify` and rebuild the image"
        case .corruptBlob(let digest, let reason):
            "blob \(digest) is corrupt: \(reason)"
        case .notFound(let reference):
            "no image \(reference) in the local store; `spark-image-tool images` lists what is there"
        }
    }
}
