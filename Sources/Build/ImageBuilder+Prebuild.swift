import Dispatch
import Dockerfile
import Foundation
import OCI
import Store
import Synchronization

/// Layers this build made, by cache key. `-n` may take them, since this run made them; it never
/// takes the store's older ones.
final class PrebuiltLayers: Sendable {
    private let layers = Mutex<[String: CachedLayer]>([:])

    func layer(forKey key: String) -> CachedLayer? { layers.withLock { $0[key] } }

    func add(_ layer: CachedLayer, key: String) { layers.withLock { $0[key] = layer } }
}

extension StageRun {
    /// A RUN, with the COPYs after it (up to the next RUN) built on a background thread while the
    /// runtime runs, as BuildKit loads the jars during `apt-get`. Their keys come from the state
    /// before the RUN: a COPY the RUN does not affect finds its layer ready when the loop reaches
    /// it; one the RUN affects (a `--chown` user it made, a parent directory it changed) gets
    /// another key and is built as usual. Correctness never depends on the guess.
    mutating func buildRunPrebuilding(_ step: RunStep, line: Int, createdBy: String, image: inout ImageAssembler,
                                      built: [ImageAssembler], following: ArraySlice<PlannedStep>) throws {
        let prebuild = Prebuild()
        defer { prebuild.finish(line: line, events: builder.events) }
        let (shadow, layers, later) = (prebuildingRun(prebuild), image.layers, Array(following))
        // Only a cache miss starts the runtime (a hit is over before a guess could pay); after the
        // snapshots, whose unpacking the build waits for.
        try buildRun(step, line: line, createdBy: createdBy, image: &image, built: built) {
            prebuild.start { shadow.prebuildLayers(of: later, layers: layers, built: built) }
        }
    }

    /// A copy of this run that reports nothing but what it built, and stops once the RUN is over.
    private func prebuildingRun(_ prebuild: Prebuild) -> StageRun {
        let quiet = ImageBuilder(store: builder.store, settings: builder.settings, events: { prebuild.note($0) },
                                 puller: builder.puller, pullPolicy: builder.pullPolicy)
        var run = StageRun(builder: quiet, request: request, context: context)
        run.prebuilt = prebuilt
        run.isCancelled = { prebuild.isStopped }
        return run
    }

    /// The COPY layers of `steps` up to the next RUN, as the main loop would build them over
    /// `layers`; an error (the RUN being over among them) only ends the guess.
    private func prebuildLayers(of steps: [PlannedStep], layers: [Descriptor], built: [ImageAssembler]) {
        var run = self
        var directories = DirectoryIndex(layers: layers, store: builder.store)
        // Waits for its scans, so no thread outlives the prebuild.
        defer { try? directories.confirm(store: builder.store) }
        for step in steps {
            if case .run = step.action { return }
            guard case .copy(let copy) = step.action else { continue }
            // Another image may need a pull: not worth a guess.
            if case .image = copy.from { return }
            do { _ = try run.buildLayers(copy, description: step.createdBy, built: built, layers: layers, directories: &directories) } catch { return }
        }
    }
}

/// One RUN's prebuild: a thread started when the RUN misses the cache, stopped before its next
/// layer when the RUN is over, and waited for then, so no work outlives the step.
final class Prebuild: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let started = Mutex<Date?>(nil)
    /// Layers built (not found in a cache) and their bytes.
    private let made = Mutex<(layers: Int, bytes: Int64)>((0, 0))
    private let done = DispatchSemaphore(value: 0)

    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    func start(_ work: @escaping @Sendable () -> Void) {
        started.withLock { $0 = Date() }
        Thread.detachNewThread { [self] in
            work()
            done.signal()
        }
    }

    /// Counts the layers the prebuild built; its other events are not shown.
    func note(_ event: BuildEvent) {
        guard case .layerFinished(_, _, let size, let cached) = event, !cached else { return }
        made.withLock { $0 = ($0.layers + 1, $0.bytes + size) }
    }

    /// Stops the prebuild, waits for it, and says what it built.
    func finish(line: Int, events: BuildEventHandler) {
        stopped.store(true, ordering: .relaxed)
        guard let since = started.withLock({ $0 }) else { return }
        done.wait()
        let (layers, bytes) = made.withLock { $0 }
        guard layers > 0 else { return }
        events(.taskFinished(task: "prebuild", text: "built \(layers) layer\(layers == 1 ? "" : "s") of the COPYs after line \(line) while its RUN ran",
                             bytes: bytes, seconds: Date().timeIntervalSince(since)))
    }
}
