import Foundation
import HTTP
import Testing

/// A python3 process serving on 127.0.0.1 or a Unix socket. It exits with this test
/// process, which holds its stdin.
final class Peer: @unchecked Sendable {
    /// The port, or the socket path, that the peer printed once it was listening.
    let address: String
    private let process = Process()
    private let input = Pipe()

    init(_ arguments: [String]) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", try Scratch.shared.get().file("peer.py", contents: peerScript)] + arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        address = try Self.firstLine(of: output.fileHandleForReading)
    }

    var base: String { "http://127.0.0.1:\(address)" }

    private static func firstLine(of handle: FileHandle) throws -> String {
        var text = ""
        while !text.hasSuffix("\n") {
            let data = handle.availableData
            guard !data.isEmpty else { throw TestFailure("the test peer exited before listening") }
            text += String(decoding: data, as: UTF8.self)
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let plain = Result { try Peer(["tcp"]) }
    static let unix = Result { try Peer(["unix", Scratch.shared.get().path("engine.sock")]) }
    static let tls = Result { () throws -> Peer in
        let pki = try PKI.shared.get()
        return try Peer(["tls", pki.path("server.pem"), pki.path("server.key")])
    }
    static let mutualTLS = Result { () throws -> Peer in
        let pki = try PKI.shared.get()
        return try Peer(["tls", pki.path("server.pem"), pki.path("server.key"), pki.path("ca.pem")])
    }
    /// Appends each request line it receives to `proxy.log`.
    static let proxy = Result { try Peer(["proxy", Scratch.shared.get().path("proxy.log")]) }
}

/// This process's scratch directory for the peer script, certificates and sockets.
struct Scratch: Sendable {
    let directory: String

    static let shared = Result { () throws -> Scratch in
        try FileManager.default.createDirectory(atPath: directoryOfThisProcess, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.directoryOfThisProcess) }
        return Scratch(directory: directoryOfThisProcess)
    }

    private static var directoryOfThisProcess: String { NSTemporaryDirectory() + "http-tests-\(getpid())" }

    func path(_ name: String) -> String { directory + "/" + name }

    func file(_ name: String, contents: String) throws -> String {
        try contents.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }
}

/// A throwaway CA with a server certificate for localhost and 127.0.0.1, and a client certificate.
struct PKI: Sendable {
    let scratch: Scratch

    func path(_ name: String) -> String { scratch.path(name) }

    static let shared = Result { () throws -> PKI in
        let scratch = try Scratch.shared.get()
        let script = """
            set -e
            key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
            key ca.key; key server.key; key client.key
            openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=http-tests-ca
            openssl req -new -key server.key -subj /CN=localhost -out server.csr
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 -extfile server.ext -out server.pem 2>/dev/null
            openssl req -new -key client.key -subj /CN=http-tests-client -out client.csr
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 2 -extfile client.ext -out client.pem 2>/dev/null
            """
        _ = try run(["sh", "-c", script], in: scratch.directory)
        return PKI(scratch: scratch)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to completion and returns its standard output.
func run(_ arguments: [String], in directory: String? = nil) throws -> String {
    let process = Process()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = output
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestFailure("\(arguments) exited \(process.terminationStatus)") }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// What the peer's echo handler saw.
struct Echo: Decodable {
    let method: String
    let path: String
    let headers: [[String]]
    let clientPort: Int
    let bytes: Int
    let sha256: String
    let chunked: Bool
    /// Whether the body was the peer's generated pattern (byte i is i % 251).
    let pattern: Bool

    init(_ response: HTTPResponse) throws {
        #expect(response.status == 200)
        self = try JSONDecoder().decode(Echo.self, from: Data(response.body))
    }

    func header(_ name: String) -> String? {
        headers.first { $0[0].lowercased() == name.lowercased() }?[1]
    }
}

/// The peer's pattern: byte i of a generated body is i % 251.
func pattern(from start: Int, count: Int) -> [UInt8] {
    (start ..< start + count).map { UInt8($0 % 251) }
}

/// A port on 127.0.0.1 that nothing listens on: bound, read, and closed again.
func unusedPort() throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
        }
    }
    guard bound else { throw TestFailure("cannot bind a probe socket") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Collects values handed over from other threads, such as debug lines.
final class Recorder<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Value] = []

    func append(_ value: Value) { lock.withLock { stored.append(value) } }
    var values: [Value] { lock.withLock { stored } }
}

/// Runs `body`, expecting it to fail with an `HTTPError`, and returns that error.
func httpError(_ body: () throws(HTTPError) -> HTTPResponse) -> HTTPError? {
    do {
        let response = try body()
        Issue.record("expected an HTTPError, got status \(response.status)")
        return nil
    } catch {
        return error
    }
}
