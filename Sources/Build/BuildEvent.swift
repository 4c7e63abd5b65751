import OCI

/// Progress of a build, as a stream of events; the CLI decides how to show them.
public enum BuildEvent: Sendable {
    case imageStarted(reference: String, dockerfile: String)
    case baseResolved(description: String, layers: Int)
    case step(line: Int, text: String)
    /// One line a RUN printed (stdout and stderr together).
    case runOutput(line: Int, text: String)
    case layerStarted(id: Int, description: String, totalBytes: Int64)
    case layerProgress(id: Int, bytes: Int64)
    case layerFinished(id: Int, digest: Digest, size: Int64, cached: Bool)
    case imageTagged(reference: String, digest: Digest, size: Int64)
    case warning(String)
}

public typealias BuildEventHandler = @Sendable (BuildEvent) -> Void
