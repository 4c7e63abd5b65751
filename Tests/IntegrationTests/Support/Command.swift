import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one external program. `description` shows the command, status and both outputs,
/// so `#expect(result.succeeded, "\(result)")` explains a failure by itself.
struct CommandResult: Sendable, CustomStringConvertible {
    var executable: String
    var arguments: [String]
    var status: Int32
    var stdoutData: Data
    var stderrData: Data
    var timedOut: Bool

    var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    var stderr: String { String(decoding: stderrData, as: UTF8.self) }
    /// stdout without the trailing newline(s).
    var output: String {
        var s = stdout
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
    var succeeded: Bool { status == 0 && !timedOut }

    var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    var description: String {
        let how = timedOut ? "timed out" : "exited \(status)"
        return "`\(commandLine)` \(how)\n--- stdout ---\n\(stdout.suffix(4000))\n--- stderr ---\n\(stderr.suffix(4000))"
    }

    /// Returns `self` when it succeeded, else throws `CommandFailed`.
    @discardableResult
    func check() throws -> CommandResult {
        guard succeeded else { throw CommandFailed(result: self) }
        return self
    }
}

struct CommandFailed: Error, CustomStringConvertible {
    var result: CommandResult
    var description: String { result.description }
}

struct ExecutableNotFound: Error, CustomStringConvertible {
    var name: String
    var description: String { "executable '\(name)' not found in PATH" }
}

enum Command {
    /// Runs `executable` (a path, or a name looked up in `PATH`) with `arguments`, the inherited
    /// environment plus `environment`, and `stdin` (default: /dev/null). Output goes to temporary
    /// files, so large outputs cannot deadlock. After `timeout` the program gets SIGTERM, then
    /// SIGKILL 5 s later, and the result has `timedOut == true`.
    static func run(
        _ executable: String,
        _ arguments: [String] = [],
        environment: [String: String] = [:],
        stdin: Data? = nil,
        currentDirectory: URL? = nil,
        timeout: Duration = .seconds(300)
    ) throws -> CommandResult {
        let path = try resolve(executable)
        let scratch = try TemporaryDirectory(prefix: "sit-cmd")
        defer { scratch.remove() }

        let outURL = scratch.url.appending(path: "stdout")
        let errURL = scratch.url.appending(path: "stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardOutput = out
        process.standardError = err
        var input: FileHandle?
        if let stdin {
            let inURL = scratch.url.appending(path: "stdin")
            try stdin.write(to: inURL)
            input = try FileHandle(forReadingFrom: inURL)
            process.standardInput = input
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        defer { try? input?.close() }

        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        var timedOut = false
        if exited.wait(timeout: .now() + timeout.timeInterval) == .timedOut {
            timedOut = true
            process.terminate()
            if exited.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
        }
        process.waitUntilExit()

        return CommandResult(
            executable: executable,
            arguments: arguments,
            status: process.terminationStatus,
            stdoutData: (try? Data(contentsOf: outURL)) ?? Data(),
            stderrData: (try? Data(contentsOf: errURL)) ?? Data(),
            timedOut: timedOut
        )
    }

    /// `name` if it contains a slash, else its first executable match in `PATH`.
    static func resolve(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ExecutableNotFound(name: name)
    }

    /// Whether `name` can be found; for tests of optional validators.
    static func exists(_ name: String) -> Bool { (try? resolve(name)) != nil }
}

extension Duration {
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
