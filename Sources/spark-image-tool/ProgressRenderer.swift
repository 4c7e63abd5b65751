import Build
import Distribution
import Foundation

/// Shows build events: a live line per layer with bytes and rate on a terminal, plain lines
/// otherwise (when stdout is not a TTY, or CI is set).
final class ProgressRenderer: @unchecked Sendable {
    private let interactive: Bool
    private let lock = NSLock()
    private var layerTotals: [Int: Int64] = [:]
    private var layerNames: [Int: String] = [:]
    private var layerStarted: [Int: Date] = [:]
    private var lastDraw = Date.distantPast

    init(interactive: Bool) { self.interactive = interactive }

    static func forStandardOutput() -> ProgressRenderer {
        let env = ProcessInfo.processInfo.environment
        return ProgressRenderer(interactive: isatty(STDOUT_FILENO) == 1 && env["CI"] == nil && env["TERM"] != "dumb")
    }

    func handle(_ event: BuildEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .imageStarted(let reference, let dockerfile):
            line("Building \(reference) from \(dockerfile)")
        case .baseResolved(let description, let layers):
            line("  base \(description) (\(layers) layers)")
        case .step(let number, let text):
            line("  line \(number): \(text)")
        case .layerStarted(let id, let description, let total):
            layerTotals[id] = total
            layerNames[id] = description
            layerStarted[id] = Date()
        case .layerProgress(let id, let bytes):
            guard interactive, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            draw(id: id, bytes: bytes)
        case .layerFinished(let id, let digest, let size, let cached):
            let seconds = Date().timeIntervalSince(layerStarted[id] ?? Date())
            let how = cached ? "cached" : String(format: "%.1fs", seconds)
            line("    layer \(digest.encoded.prefix(12)) \(formatBytes(size)) (\(how))")
        case .imageTagged(let reference, let digest, let size):
            line("Tagged \(reference) \(digest) (\(formatBytes(size)))")
        case .warning(let message):
            FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
        }
    }

    func handleTransfer(_ event: TransferEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .blobSkipped(let digest, let size, let reason):
            line("  \(digest.encoded.prefix(12)) \(formatBytes(size)): \(reason)")
        case .blobMounted(let digest, let size, let source):
            line("  \(digest.encoded.prefix(12)) \(formatBytes(size)): mounted from \(source)")
        case .blobUploaded(let digest, let size, let seconds):
            line("  \(digest.encoded.prefix(12)) \(formatBytes(size)): uploaded in \(String(format: "%.1f", seconds))s")
        case .blobDownloaded(let digest, let size, let seconds):
            line("  \(digest.encoded.prefix(12)) \(formatBytes(size)): downloaded in \(String(format: "%.1f", seconds))s")
        case .manifestPushed(let reference, let digest):
            line("Pushed \(reference) \(digest)")
        }
    }

    private func draw(id: Int, bytes: Int64) {
        let total = max(layerTotals[id] ?? 0, 1)
        let width = 24
        let filled = min(width, Int(Double(width) * Double(bytes) / Double(total)))
        let elapsed = max(Date().timeIntervalSince(layerStarted[id] ?? Date()), 0.001)
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
