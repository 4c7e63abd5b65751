import Foundation
import HTTP
import Testing

@Suite struct StreamingTests {
    let client = HTTPClient()

    struct Refused: Error, Equatable {}

    /// 64 MiB, sparse but for a few marks, so a wrong offset or length changes the digest.
    @Test func uploadsAFileRegion() throws {
        let peer = try Peer.plain.get()
        let directory = NSTemporaryDirectory() + "http-file-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/layer"
        let file = try #require(FileHandle(forWritingAtPath: FileManager.default.createFile(atPath: path, contents: nil) ? path : ""))
        for mark in [0, 1 << 20, 1 << 20 + 7, 40 << 20, (61 << 20) + 6, (61 << 20) + 7] {
            try file.seek(toOffset: UInt64(mark))
            try file.write(contentsOf: Data("mark \(mark)".utf8))
        }
        try file.truncate(atOffset: 64 << 20)
        try file.close()
        let (offset, length) = (Int64(1 << 20 + 7), Int64(60 << 20))

        let response = try client.send(HTTPRequest(method: "PUT", url: peer.base + "/echo",
                                                   body: .file(path: path, offset: offset, length: length)))
        let echo = try Echo(response)
        #expect(echo.bytes == Int(length))
        #expect(echo.header("Content-Length") == "\(length)")
        #expect(echo.sha256 == (try sha256(of: path, offset: offset, length: length)))
    }

    @Test func aMissingFileFailsBeforeConnecting() throws {
        let request = HTTPRequest(method: "PUT", url: "http://127.0.0.1:1/", body: .file(path: "/nonexistent/layer", offset: 0, length: 1))
        let error = httpError { () throws(HTTPError) in try client.send(request) }
        #expect(error?.kind == .other)
        #expect(error?.message.contains("/nonexistent/layer") == true)
    }

    @Test(arguments: [nil, Int64(3 << 20)])
    func producerStreamsTheBody(contentLength: Int64?) throws {
        let peer = try Peer.plain.get()
        let body = RequestBody.stream(contentLength: contentLength) { write in
            let piece = pattern(from: 0, count: 251 * 256)
            var left = 3 << 20
            while left > 0 {
                try piece.prefix(left).withUnsafeBytes(write)
                left -= min(left, piece.count)
            }
        }
        let echo = try Echo(client.send(HTTPRequest(method: "POST", url: peer.base + "/echo", body: body)))
        #expect(echo.bytes == 3 << 20)
        #expect(echo.pattern)
        #expect(echo.chunked == (contentLength == nil))
    }

    @Test func aThrowingProducerIsRethrown() throws {
        let peer = try Peer.plain.get()
        let body = RequestBody.stream(contentLength: nil) { write in
            try [1, 2, 3].withUnsafeBytes(write)
            throw Refused()
        }
        let error = httpError { () throws(HTTPError) in try client.send(HTTPRequest(method: "PUT", url: peer.base + "/echo", body: body)) }
        #expect(error?.kind == .aborted)
        #expect(error?.underlying as? Refused == Refused())
    }

    /// The transfer fails while the producer still writes; it must be released, not left blocked.
    @Test func aProducerIsReleasedWhenTheTransferFails() throws {
        let port = try unusedPort()
        let body = RequestBody.stream(contentLength: nil) { write in
            let piece = [UInt8](repeating: 0, count: 1 << 16)
            while true { try piece.withUnsafeBytes(write) }
        }
        let error = httpError { () throws(HTTPError) in
            try client.send(HTTPRequest(method: "PUT", url: "http://127.0.0.1:\(port)/", body: body))
        }
        #expect(error?.kind == .couldNotConnect)
    }

    @Test func downloadsStreamIntoAConsumer() throws {
        let peer = try Peer.plain.get()
        let length = (32 << 20) + 3
        let checker = PatternChecker()
        let progress = Recorder<Int64>()
        let response = try client.send(HTTPRequest(url: peer.base + "/bytes/\(length)"), response: .stream(checker.consume),
                                       progress: { _, received in progress.append(received) })
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        #expect(checker.result == (count: length, matches: true))
        #expect(progress.values.last == Int64(length))
    }

    @Test func errorBodiesAreCollectedInsteadOfStreamed() throws {
        let peer = try Peer.plain.get()
        let checker = PatternChecker()
        let response = try client.send(HTTPRequest(url: peer.base + "/status/404"), response: .stream(checker.consume))
        #expect(response.status == 404)
        #expect(response.body == Array("error body".utf8))
        #expect(checker.result.count == 0)
    }

    @Test func aThrowingConsumerIsRethrown() throws {
        let peer = try Peer.plain.get()
        let error = httpError { () throws(HTTPError) in
            try client.send(HTTPRequest(url: peer.base + "/bytes/100000"), response: .stream { _ in throw Refused() })
        }
        #expect(error?.kind == .aborted)
        #expect(error?.underlying as? Refused == Refused())
    }

    @Test func collectingStopsAtTheLimit() throws {
        let peer = try Peer.plain.get()
        let error = httpError { () throws(HTTPError) in
            try client.send(HTTPRequest(url: peer.base + "/bytes/100000"), response: .collect(limit: 1000))
        }
        #expect(error?.kind == .responseTooLarge)
        #expect(error?.isRetryable == false)
        let exact = try client.send(HTTPRequest(url: peer.base + "/bytes/1000"), response: .collect(limit: 1000))
        #expect(exact.body == pattern(from: 0, count: 1000))
    }

    @Test func discardedBodiesAreNotKept() throws {
        let peer = try Peer.plain.get()
        let response = try client.send(HTTPRequest(url: peer.base + "/bytes/100000"), response: .discard)
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
    }
}

/// Checks a streamed body against the peer's pattern piece by piece, keeping nothing.
final class PatternChecker: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var matches = true

    /// Longer than curl's largest write (16 KiB) from any phase.
    private static let reference = pattern(from: 0, count: 251 * 100)

    func consume(_ bytes: UnsafeRawBufferPointer) {
        lock.withLock {
            let phase = count % 251
            let same = bytes.count <= Self.reference.count - phase
                && Self.reference.withUnsafeBytes { memcmp($0.baseAddress! + phase, bytes.baseAddress!, bytes.count) == 0 }
            matches = matches && same
            count += bytes.count
        }
    }

    var result: (count: Int, matches: Bool) { lock.withLock { (count, matches) } }
}

/// The digest of a file region, computed by python so it does not share our code.
func sha256(of path: String, offset: Int64, length: Int64) throws -> String {
    let script = """
        import hashlib, sys
        f = open(sys.argv[1], "rb"); f.seek(int(sys.argv[2]))
        print(hashlib.sha256(f.read(int(sys.argv[3]))).hexdigest())
        """
    return try run(["python3", "-c", script, path, "\(offset)", "\(length)"])
}
