import Build
import Distribution
import Foundation
import Synchronization

/// Shows build events: a live line per layer with bytes and rate on a terminal, plain lines
/// otherwise (when stdout is not a TTY, or CI is set).
final class ProgressRenderer: Sendable {
    private let interactive: Bool
    /// Also serialises the output, so lines from upload threads do not interleave.
    private let state = Mutex(State())

    private struct State {
        var layerTotals: [Int: Int64] = [:]
        var layerStarted: [Int: Date] = [:]
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
        case .layerStarted(let id, _, let total):
            state.layerTotals[id] = total
            state.layerStarted[id] = Date()
        case .layerProgress(let id, let bytes):
            guard interactive, Date().timeIntervalSince(state.lastDraw) > 0.1 else { return }
            state.lastDraw = Date()
            draw(bytes: bytes, total: state.layerTotals[id] ?? 0, started: state.layerStarted[id])
        case .layerFinished(let id, let digest, let size, let cached):
            let seconds = Date().timeIntervalSince(state.layerStarted[id] ?? Date())
            let how = cached ? "cached" : String(format: "%.1fs", seconds)
            line("    layer \(digest.encoded.prefix(12)) \(formatBytes(size)) (\(how))")
        case .imageTagged(let reference, let digest, let size):
            line("Tagged \(reference) \(digest) (\(formatBytes(size)))")
        case .warning(let message):
            FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
        }
    }

    func handleTransfer(_ event: TransferEvent) {
        state.withLock { _ in line(Self.text(of: event)) }
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
        }
    }

    private func draw(bytes: Int64, total: Int64, started: Date?) {
        let total = max(total, 1)
        let width = 24
        let filled = min(width, Int(Double(width) * Double(bytes) / Double(total)))
        let elapsed = max(Date().timeIntervalSince(started ?? Date()), 0.001)
        let rate = formatBytes(Int64(Double(bytes) / elapsed)) + "/s"
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let text = "    [\(bar)] \(formatBytes(bytes)) / \(formatBytes(total))  \(rate)"
        FileHandle.standardOutput.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    private func line(_ text: String) {
        let prefix = interactive ? "\r\u{1B}[K" : ""
        FileHandle.standardOutput.write(Data("\(prefix)\(text)\n".utf8))
    }
}
