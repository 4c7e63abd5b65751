import Foundation
import HTTP

/// Runs a program in a running container, the way `docker exec -i` does: create the exec, start
/// it on a hijacked connection that carries stdin in and multiplexed stdout/stderr out, then read
/// its exit code. This is how a kind node's `ctr` is reached.
extension EngineClient {
    /// Writes a process's stdin, piece by piece, on its own thread.
    public typealias InputProducer = @Sendable (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

    public struct ExecResult: Sendable {
        public var exitCode: Int
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// Bytes of stdin that reached the daemon.
        public var bytesSent: Int64
        /// False when the process exited before the daemon had taken all of stdin.
        public var inputComplete: Bool

        public var standardOutput: String { String(decoding: stdout, as: UTF8.self) }
        public var standardError: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs `command` in `container` with `stdin` (none: the process reads end of file at once).
    /// Output beyond `outputLimit` bytes per stream fails rather than fill memory.
    public func exec(in container: String, command: [String], stdin: InputProducer? = nil,
                     outputLimit: Int = 16 << 20) throws -> ExecResult {
        let id = try createExec(in: container, command: command, attachStdin: stdin != nil)
        var output = ExecOutput(limit: outputLimit)
        let traffic = try startExec(id, stdin: stdin) { try output.take($0) }
        try output.finish()
        let exitCode = try exitCode(of: id, command: command, container: container)
        return ExecResult(exitCode: exitCode, stdout: output.stdout, stderr: output.stderr,
                          bytesSent: traffic.sent, inputComplete: traffic.inputComplete)
    }

    /// `POST /containers/{id}/exec`; the exec's ID.
    func createExec(in container: String, command: [String], attachStdin: Bool) throws -> String {
        struct Create: Encodable {
            var AttachStdin: Bool, AttachStdout = true, AttachStderr = true, Tty = false
            var Cmd: [String]
        }
        struct Created: Decodable { var Id: String }
        let body = try JSONEncoder().encode(Create(AttachStdin: attachStdin, Cmd: command))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        let reply = try send("POST", "/containers/\(Self.escapePath(container))/exec", headers: headers, body: .bytes(Array(body)))
        return try decode(Created.self, reply, action: "run \(command.joined(separator: " ")) in container \(container)", status: 201).Id
    }

    /// `POST /exec/{id}/start` with the connection hijacked: `stdin` streams in while the raw
    /// multiplexed output goes to `output`, until the process ends and the daemon closes.
    func startExec(_ id: String, stdin: InputProducer?,
                   output: (UnsafeRawBufferPointer) throws -> Void) throws -> HijackedConnection.Traffic {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Upgrade", value: "tcp")
        let path = "/exec/\(Self.escapePath(id))/start"
        let connection = try hijack("POST", path, headers: headers, body: Array(#"{"Detach":false,"Tty":false}"#.utf8))
        // 101 after the upgrade; daemons that ignore the upgrade answer 200 and stream anyway.
        guard connection.head.status == 101 || connection.head.status == 200 else {
            let body = try transport.translatingErrors { () throws(HTTPError) in try connection.readBody() }
            throw failure(HTTPResponse(status: connection.head.status, headers: connection.head.headers, body: body, url: path,
                                       httpVersion: "1.1"), action: "start exec \(id)")
        }
        let input: RequestBody = stdin.map { .stream(contentLength: nil, producer: $0) } ?? .none
        return try transport.translatingErrors { () throws(HTTPError) in try connection.exchange(input: input, output: output) }
    }

    public struct ExecInspect: Decodable, Sendable {
        public var Running: Bool
        public var ExitCode: Int?
    }

    /// `GET /exec/{id}/json`.
    public func inspectExec(_ id: String) throws -> ExecInspect {
        try decode(ExecInspect.self, try send("GET", "/exec/\(Self.escapePath(id))/json"), action: "inspect exec \(id)")
    }

    /// The daemon records the exit code a moment after it closes the stream: ask until it has,
    /// often (a warm preload is a few short execs per node, each waiting here once).
    private func exitCode(of id: String, command: [String], container: String) throws -> Int {
        for _ in 0 ..< 500 {
            let inspect = try inspectExec(id)
            if !inspect.Running, let code = inspect.ExitCode { return code }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw DockerError("\(command.joined(separator: " ")) in container \(container) still runs after its output ended",
                          hint: "the exec \(id) did not report an exit code within 5 s")
    }
}

/// Stdout and stderr of an exec, demultiplexed and bounded.
private struct ExecOutput {
    let limit: Int
    var demultiplexer = FrameDemultiplexer()
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    mutating func take(_ bytes: UnsafeRawBufferPointer) throws {
        for frame in try demultiplexer.push(bytes) {
            switch frame.stream {
            case .stdout: stdout += frame.payload
            case .stderr: stderr += frame.payload
            case .stdin: break
            case .systemError:
                throw DockerError("the Docker daemon reported an error in the exec: \(String(decoding: frame.payload, as: UTF8.self))")
            }
            guard stdout.count <= limit, stderr.count <= limit else {
                throw DockerError("the exec wrote more than \(limit) bytes of output")
            }
        }
    }

    func finish() throws { try demultiplexer.finish() }
}
