import Foundation

// TODO(support): the Support module's subprocess runner drains stdout and stderr together;
// use it once it lands.
enum ProcessRunner {
    /// Runs `arguments` with stdout and stderr on one pipe, handing each line to `onLine` as it
    /// comes (lines keep their order across both streams). Returns the exit status, or 128 plus
    /// the signal's number when a signal ended it, as a shell reports it.
    static func run(
        _ arguments: [String], environment: [String: String], onLine: (String) -> Void
    ) throws(RuntimeError) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw RuntimeError("cannot start \(arguments[0]): \(error)", hint: "check that it is installed (scripts/bootstrap.sh)")
        }
        // Our copy of the write end must be closed, or the read below never sees the end.
        try? pipe.fileHandleForWriting.close()
        var pending: [UInt8] = []
        while case let data = pipe.fileHandleForReading.availableData, !data.isEmpty {
            pending += data
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                onLine(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }
}
