import Foundation
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
    /// Work outside a layer that can take seconds (a base imported or pulled, a snapshot
    /// unpacked), named by `task` ("base", "snapshot"); `totalBytes` is 0 when not known ahead.
    case taskStarted(task: String, text: String, totalBytes: Int64)
    case taskProgress(task: String, bytes: Int64)
    case taskFinished(task: String, text: String, bytes: Int64, seconds: Double)
    /// A step that made a layer (RUN, COPY, ADD) is done: step `index` of the stage's `count`.
    case stepFinished(index: Int, count: Int, text: String, seconds: Double)
    case warning(String)
}

public typealias BuildEventHandler = @Sendable (BuildEvent) -> Void

extension BuildEvent {
    /// Runs `work` as a task the CLI shows: started, then finished with what `finished` says
    /// of the result (text and bytes) and how long it took.
    static func task<T>(_ task: String, _ text: String, totalBytes: Int64 = 0, events: BuildEventHandler,
                        _ work: () throws -> T, finished: (T) -> (text: String, bytes: Int64)) rethrows -> T {
        events(.taskStarted(task: task, text: text, totalBytes: totalBytes))
        let started = Date()
        let result = try work()
        let (text, bytes) = finished(result)
        events(.taskFinished(task: task, text: text, bytes: bytes, seconds: Date().timeIntervalSince(started)))
        return result
    }
}
