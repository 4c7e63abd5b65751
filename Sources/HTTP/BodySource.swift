import Foundation
import Synchronization
import Support

/// Supplies a request body to curl's read callback, piece by piece.
protocol BodySource: AnyObject {
    /// nil when unknown, which makes HTTP/1.1 send the body chunked.
    var length: Int64? { get }
    /// Fills `buffer` and returns the byte count; 0 means the body is complete.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Starts over, for when curl has to resend on a fresh connection; false if it cannot.
    func rewind() -> Bool
    /// Called once the transfer is over; returns what the producer threw, if anything.
    func finish() -> (any Error)?
    /// A descriptor that polls readable when `read` would not block; nil when it never blocks.
    var readinessDescriptor: Int32? { get }
}

extension BodySource {
    /// Only a producer thread can fail after the transfer.
    func finish() -> (any Error)? { nil }
    var readinessDescriptor: Int32? { nil }
}

extension RequestBody {
    /// nil for a GET or HEAD without a body; other methods always upload, if only zero bytes,
    /// so that they send `Content-Length: 0`.
    func makeSource(method: String) throws(HTTPError) -> BodySource? {
        switch self {
        case _ where method == "HEAD": nil
        case .none: method == "GET" ? nil : BytesSource([])
        case .bytes(let bytes): BytesSource(bytes)
        case .file(let path, let offset, let length): try FileSource(path: path, offset: offset, length: length)
        case .stream(let length, let producer): try StreamSource(length: length, producer: producer)
        }
    }
}

final class BytesSource: BodySource {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var length: Int64? { Int64(bytes.count) }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, bytes.count - position)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position ..< position + count])) }
        position += count
        return count
    }

    func rewind() -> Bool {
        position = 0
        return true
    }
}

/// Reads a region of a file with `pread`, so only curl's buffer is ever in memory.
final class FileSource: BodySource {
    private let path: String
    private let descriptor: Int32
    private let offset: Int64
    private let total: Int64
    private var position: Int64 = 0

    init(path: String, offset: Int64, length: Int64) throws(HTTPError) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw HTTPError(kind: .other, message: "cannot open \(path): \(errnoDescription())")
        }
        self.path = path
        self.offset = offset
        total = length
    }

    deinit { close(descriptor) }

    var length: Int64? { total }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let wanted = Int(min(Int64(buffer.count), total - position))
        guard wanted > 0 else { return 0 }
        let count = pread(descriptor, buffer.baseAddress, wanted, off_t(offset + position))
        if count < 0 && errno == EINTR { return try read(into: buffer) }
        guard count > 0 else {
            let reason = count < 0 ? errnoDescription() : "file ends before offset \(offset) + length \(total)"
            throw HTTPError(kind: .other, message: "reading \(path): \(reason)")
        }
        position += Int64(count)
        return count
    }

    func rewind() -> Bool {
        position = 0
        return true
    }
}

/// Runs the producer on its own thread, writing into one end of a socket pair while curl
/// reads the other. The socket buffer is the only memory between them, and a socket (not a
/// pipe) allows MSG_NOSIGNAL, so a producer that writes after the transfer ended gets an
/// error instead of SIGPIPE.
final class StreamSource: BodySource {
    let length: Int64?
    private let readEnd: Int32
    private let outcome = ProducerOutcome()
    private var bytesRead = 0

    init(length: Int64?, producer: @escaping @Sendable (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws(HTTPError) {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw HTTPError(kind: .other, message: "socketpair: \(errnoDescription())")
        }
        self.length = length
        readEnd = ends[0]
        let writeEnd = ends[1]
        Thread { [outcome] in
            outcome.run(writingTo: writeEnd, producer)
        }.start()
    }

    deinit { close(readEnd) }

    var readinessDescriptor: Int32? { readEnd }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = Foundation.read(readEnd, buffer.baseAddress, buffer.count)
        if count < 0 && errno == EINTR { return try read(into: buffer) }
        guard count >= 0 else {
            throw HTTPError(kind: .other, message: "reading the body producer: \(errnoDescription())")
        }
        // End of stream: the producer has returned, so its outcome is settled.
        if count == 0, let error = outcome.producerError { throw error }
        bytesRead += count
        return count
    }

    func rewind() -> Bool { bytesRead == 0 }

    /// Unblocks a producer still writing, then waits for it to return.
    func finish() -> (any Error)? {
        shutdown(readEnd, Int32(SHUT_RDWR))
        outcome.waitUntilDone()
        return outcome.producerError
    }
}

/// Thrown by a stream body's `write` once the transfer no longer reads.
struct StreamClosed: Error, CustomStringConvertible {
    var description: String { "the HTTP transfer ended before the request body was complete" }
}

/// What the producer thread leaves behind, guarded for the threads that read it.
private final class ProducerOutcome: Sendable {
    private let error = Mutex<(any Error)?>(nil)
    private let done = DispatchSemaphore(value: 0)

    /// The producer's own failure; a `StreamClosed` it passed on is the transfer's doing.
    var producerError: (any Error)? {
        error.withLock { $0 is StreamClosed ? nil : $0 }
    }

    func run(writingTo socket: Int32, _ producer: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
        do {
            try producer { bytes throws in try Self.send(bytes, to: socket) }
        } catch {
            self.error.withLock { $0 = error }
        }
        close(socket)
        done.signal()
    }

    func waitUntilDone() {
        done.wait()
    }

    private static func send(_ bytes: UnsafeRawBufferPointer, to socket: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = Foundation.send(socket, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { throw StreamClosed() }
            offset += sent
        }
    }
}
