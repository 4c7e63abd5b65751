import Build
import Distribution
import Foundation
import Synchronization

/// Shows build and transfer events: on a terminal, a live bar with bytes and rate for whatever
/// is moving (layers written, a base imported, blobs pulled or pushed); everywhere, one line per
/// finished step with its duration, so CI logs show where the time went.
final class ProgressRenderer: Sendable {
    private let interactive: Bool
    /// Also serialises the output, so lines from upload threads do not interleave.
    private let state = Mutex(State())

    /// Something moving bytes: a layer being written, a task, a blob in transit.
    struct Bar {
        var label: String
        var bytes: Int64 = 0
        var total: Int64
        var started = Date()
    }

    private struct State {
        /// By "layer:ID", "task:NAME" or "blob:DIGEST"; the drawn bar adds them all up.
        var bars: [String: Bar] = [:]
        /// When each Dockerfile line started, for RUN output's elapsed seconds.
        var stepStarted: [Int: Date] = [:]
        var lastDraw = Date.distantPast
    }

    init(interactive: Bool) { self.interactive = interactive }

    static func forStandardOutput() -> ProgressRenderer {
        let env = ProcessInfo.processInfo.environment
        return ProgressRenderer(interactive: isatty(STDOUT_FILENO) == 1 && env["CI"] == nil && env["TERM"] != "dumb")
    }

    func handle(_ event: BuildEvent) {
        state.withLock { state in handle(event, &state) }
    }

    private func handle(_ event: BuildEvent, _ state: inout State) {
        switch event {
        case .imageStarted(let reference, let dockerfile):
            line("Building \(reference) from \(dockerfile)")
        case .baseResolved(let description, let layers):
            line("  base \(description) (\(layers) layers)")
        case .step(let number, let text):
            state.stepStarted[number] = Date()
            line("  line \(number): \(text)")
        case .runOutput(let number, let text):
            // BuildKit's plain progress: `#STEP SECONDS text`; our steps are the Dockerfile's lines.
            let seconds = Date().timeIntervalSince(state.stepStarted[number] ?? Date())
            line(String(format: "#%d %.3f ", number, seconds) + text)
        case .layerStarted(let id, let description, let total):
            state.bars["layer:\(id)"] = Bar(label: description, total: total)
        case .layerProgress(let id, let bytes):
            progress("layer:\(id)", bytes: bytes, &state)
        case .layerFinished(let id, let digest, let size, let cached):
            let seconds = Date().timeIntervalSince(state.bars.removeValue(forKey: "layer:\(id)")?.started ?? Date())
            let how = cached ? "cached" : String(format: "%.1fs", seconds)
            line("    layer \(digest.encoded.prefix(12)) \(formatBytes(size)) (\(how))")
        case .imageTagged(let reference, let digest, let size):
            line("Tagged \(reference) \(digest) (\(formatBytes(size)))")
        case .warning(let message):
            FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
        case .taskStarted(let task, let text, let total):
            state.bars["task:\(task)"] = Bar(label: text, total: total)
            progress("task:\(task)", bytes: 0, &state)
        case .taskProgress(let task, let bytes):
            progress("task:\(task)", bytes: bytes, &state)
        case .taskFinished(let task, let text, let bytes, let seconds):
            state.bars["task:\(task)"] = nil
            line(Self.taskLine(task: task, text: text, bytes: bytes, seconds: seconds))
        case .stepFinished(let index, let count, let text, let seconds):
            line(Self.stepLine(index: index, count: count, text: text, seconds: seconds))
        }
    }

    func handleTransfer(_ event: TransferEvent) {
        state.withLock { state in
            switch event {
            case .blobProgress(let digest, let bytes, let size):
                if state.bars["blob:\(digest)"] == nil { state.bars["blob:\(digest)"] = Bar(label: "blobs", total: size) }
                progress("blob:\(digest)", bytes: bytes, &state)
            case .blobSkipped(let digest, _, _), .blobMounted(let digest, _, _), .blobUploaded(let digest, _, _), .blobDownloaded(let digest, _, _):
                state.bars["blob:\(digest)"] = nil
                line(Self.text(of: event))
            case .manifestPushed:
                line(Self.text(of: event))
            }
        }
    }

    /// `[base] imported rootfs:base.tar 350.0 MB in 5.8 s`
    static func taskLine(task: String, text: String, bytes: Int64, seconds: Double) -> String {
        "[\(task)] \(text) \(formatBytes(bytes)) in " + String(format: "%.1f s", seconds)
    }

    /// `[2/7] RUN apt-get install … 41.2 s`, the instruction cut to one short line.
    static func stepLine(index: Int, count: Int, text: String, seconds: Double) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        let short = flat.count > 60 ? flat.prefix(59) + "…" : Substring(flat)
        return "[\(index)/\(count)] \(short) " + String(format: "%.1f s", seconds)
    }

    /// The bar for `bytes` of `total` (0: not known) moved in `seconds`: what a terminal shows.
    static func barText(label: String, bytes: Int64, total: Int64, seconds: Double, width: Int = 24) -> String {
        let rate = formatBytes(Int64(Double(bytes) / max(seconds, 0.001))) + "/s"
        let name = label.count > 40 ? label.prefix(39) + "…" : Substring(label)
        guard bytes > 0 else { return "    \(name) …" }
        guard total > 0 else { return "    \(name) \(formatBytes(bytes))  \(rate)" }
        let filled = max(0, min(width, Int(Double(width) * Double(bytes) / Double(total))))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "    \(name) [\(bar)] \(formatBytes(bytes)) / \(formatBytes(total))  \(rate)"
    }

    private static func text(of event: TransferEvent) -> String {
        switch event {
        case .blobSkipped(let digest, let size, let reason):
            "  \(digest.encoded.prefix(12)) \(formatBytes(size)): \(reason)"
        case .blobMounted(let digest, let size, let source):
            "  \(digest.encoded.prefix(12)) \(formatBytes(size)): mounted from \(source)"
        case .blobUploaded(let digest, let size, let seconds):
            "  \(digest.encoded.prefix(12)) \(formatBytes(size)): uploaded in \(String(format: "%.1f", seconds))s"
        case .blobDownloaded(let digest, let size, let seconds):
            "  \(digest.encoded.prefix(12)) \(formatBytes(size)): downloaded in \(String(format: "%.1f", seconds))s"
        case .manifestPushed(let reference, let digest):
            "Pushed \(reference) \(digest)"
        case .blobProgress(let digest, let bytes, let size):
            "  \(digest.encoded.prefix(12)) \(formatBytes(bytes)) / \(formatBytes(size))"
        }
    }

    /// Records `bytes` for the bar `key` and, at most ten times a second and when a bar is full,
    /// redraws on a terminal one bar for everything moving at once (parallel blobs add up).
    private func progress(_ key: String, bytes: Int64, _ state: inout State) {
        state.bars[key]?.bytes = bytes
        let full = state.bars[key].map { $0.total > 0 && bytes >= $0.total } ?? false
        guard interactive, full || Date().timeIntervalSince(state.lastDraw) > 0.1,
              let first = state.bars.values.min(by: { $0.started < $1.started }) else { return }
        state.lastDraw = Date()
        let bars = state.bars.values
        let total = bars.contains { $0.total <= 0 } ? 0 : bars.reduce(0) { $0 + $1.total }
        let label = bars.count == 1 ? first.label : "\(first.label) (+\(bars.count - 1))"
        let text = Self.barText(label: label, bytes: bars.reduce(0) { $0 + $1.bytes }, total: total,
                                seconds: Date().timeIntervalSince(first.started))
        FileHandle.standardOutput.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    private func line(_ text: String) {
        let prefix = interactive ? "\r\u{1B}[K" : ""
        FileHandle.standardOutput.write(Data("\(prefix)\(text)\n".utf8))
    }
}
