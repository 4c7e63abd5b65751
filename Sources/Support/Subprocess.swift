import Foundation
import Synchronization

/// What a finished child process said and how it ended.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs short-lived helpers (credential helpers, `minikube`). Stdout and stderr are drained on
/// separate threads while stdin is written, so a child that fills one pipe cannot deadlock us.
public enum Subprocess {
    /// Runs `arguments[0]` found on PATH. Throws only when the program cannot be started; a
    /// missing program on PATH exits 127, as `env` reports it.
    public static func run(_ arguments: [String], input: Data? = nil, environment: [String: String]? = nil) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let output = Drain(stdout.fileHandleForReading), errors = Drain(stderr.fileHandleForReading)
        if let input { try? stdin.fileHandleForWriting.write(contentsOf: input) }
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        return ProcessOutput(status: process.terminationStatus, stdout: output.wait(), stderr: errors.wait())
    }
}

/// Reads a pipe to its end on a thread of its own.
private final class Drain: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Data>(Data())

    init(_ handle: FileHandle) {
        DispatchQueue.global().async { [self] in
            let data = handle.readDataToEndOfFile()
            result.withLock { $0 = data }
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return result.withLock { $0 }
    }
}
