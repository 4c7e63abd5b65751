import Foundation
import OCI
import Support
import Synchronization

/// Uploads each layer as soon as the build has written it, while the build goes on, so that
/// `build --push` ends shortly after the last layer is written instead of starting the upload
/// then. The caller relays the build's progress: `imageStarted` names the repository,
/// `layerFinished` hands over a blob. The push that follows the build waits for these uploads
/// and counts them.
public final class PushAhead: Sendable {
    private let pusher: Pusher
    private let slots: DispatchSemaphore
    private let state = Locked(State())

    private struct State {
        var target: ImageReference?
        var uploads: [String: Upload] = [:]
        var cancelled = false
    }

    public init(pusher: Pusher) {
        self.pusher = pusher
        slots = DispatchSemaphore(value: max(1, pusher.session.options.jobs))
    }

    /// Later layers go to `reference`'s repository.
    public func imageStarted(_ reference: ImageReference) {
        state.update { $0.target = reference }
    }

    /// Starts uploading a layer blob the build has just written to the store.
    public func layerFinished(digest: Digest, size: Int64) {
        let upload: Upload? = state.update { state in
            guard !state.cancelled, let target = state.target else { return nil }
            let key = Self.key(digest, target.registry, target.repository)
            guard state.uploads[key] == nil else { return nil }
            let upload = Upload(registry: target.registry, repository: target.repository)
            state.uploads[key] = upload
            return upload
        }
        guard let upload else { return }
        Thread.detachNewThread { [self] in
            slots.wait()
            defer { slots.signal() }
            guard !state.value.cancelled else { return upload.finish(.failure(CancellationError())) }
            upload.finish(Result {
                try pusher.pushBlob(digest: digest, size: size, client: pusher.session.client(for: upload.registry),
                                    repository: upload.repository)
            })
        }
    }

    /// Uploads not yet started are dropped; those under way finish. For a build that failed.
    public func cancel() {
        state.update { $0.cancelled = true }
        for upload in state.value.uploads.values { _ = upload.wait() }
    }

    /// The outcome of the upload of `digest` to `repository` started during the build, once it
    /// has finished; nil when none was started or it failed (the caller then pushes the blob).
    func outcome(of digest: Digest, registry: String, repository: String) -> Pusher.BlobOutcome? {
        guard let upload = state.value.uploads[Self.key(digest, registry, repository)] else { return nil }
        return try? upload.wait().get()
    }

    private static func key(_ digest: Digest, _ registry: String, _ repository: String) -> String {
        "\(registry)/\(repository)@\(digest)"
    }
}

/// One blob's upload, finished on its thread and waited for by the push.
private final class Upload: Sendable {
    let registry: String
    let repository: String
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<Pusher.BlobOutcome, any Error>?>(nil)

    init(registry: String, repository: String) {
        self.registry = registry
        self.repository = repository
    }

    func finish(_ result: Result<Pusher.BlobOutcome, any Error>) {
        self.result.withLock { $0 = result }
        done.signal()
    }

    func wait() -> Result<Pusher.BlobOutcome, any Error> {
        done.wait()
        done.signal()
        return result.withLock { $0! }
    }
}
