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
        try run(arguments, environment: environment) { write in
            if let input { try input.withUnsafeBytes { try write($0) } }
        }
    }

    /// Runs `arguments[0]` with stdin written piece by piece by `input` (an image archive, say,
    /// that must not sit in memory whole). A child that stops reading makes `input` fail.
    public static func run(_ arguments: [String], environment: [String: String]? = nil,
                           input: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> ProcessOutput {
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
        let writer = stdin.fileHandleForWriting
        // A child that exits early closes the pipe: with SIGPIPE ignored the write fails with
        // EPIPE instead of killing us, and the child's exit status and stderr say why, so they
        // win over the write's error.
        signal(SIGPIPE, SIG_IGN)
        let inputError: (any Error)?
        do { try input { try Self.writeAll($0, to: writer.fileDescriptor) }; inputError = nil } catch { inputError = error }
        try? writer.close()
        process.waitUntilExit()
        let result = ProcessOutput(status: process.terminationStatus, stdout: output.wait(), stderr: errors.wait())
        if let inputError, result.status == 0 { throw inputError }
        return result
    }
}

extension Subprocess {
    struct WriteFailed: Error, CustomStringConvertible {
        var description: String
    }

    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw WriteFailed(description: "writing to the child's stdin: \(errnoDescription())")
            }
            offset += written
        }
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
