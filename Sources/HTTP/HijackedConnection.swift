import CCurl
import Foundation
import Support

/// One HTTP/1.1 connection taken over after its response head, as the Engine API's exec start
/// does with `Connection: Upgrade`: after `101 Switching Protocols` the socket carries a
/// process's stdin one way and its output the other. curl connects (TCP, Unix socket, TLS) with
/// CONNECT_ONLY and the request is written by hand. One thread drives the connection: neither a
/// curl handle nor a TLS session may be used by two threads at once, so sending and receiving
/// are interleaved with poll().
public final class HijackedConnection {
    public let head: ResponseHead
    private let handle: EasyHandle
    private let socket: Int32
    private let isTLS: Bool
    private let idleTimeout: Duration
    /// Bytes that came in with the head; they are the start of the body or stream.
    private var early: [UInt8]

    /// What crossed the connection after the head.
    public struct Traffic: Sendable, Equatable {
        /// Input bytes sent.
        public var sent: Int64
        /// Output bytes received.
        public var received: Int64
        /// False when the peer closed before it had taken all the input (the process exited).
        public var inputComplete: Bool
    }

    init(request: HTTPRequest, handle: EasyHandle, isTLS: Bool, idleTimeout: Duration) throws(HTTPError) {
        var socket: curl_socket_t = -1
        let code = ccurl_getinfo_socket(handle.raw, &socket)
        guard code == CURLE_OK, socket >= 0 else {
            throw HTTPError(code: code, message: "no socket after connecting: \(handle.message(for: code))", url: "")
        }
        self.handle = handle
        self.socket = socket
        self.isTLS = isTLS
        self.idleTimeout = idleTimeout
        let wire = try Self.wireFormat(of: request)
        try Self.sendAll(wire, handle: handle, socket: socket, idleTimeout: idleTimeout)
        (head, early) = try Self.readHead(handle: handle, socket: socket, idleTimeout: idleTimeout)
    }

    /// The body of a response that did not switch protocols (an error's JSON): `Content-Length`
    /// bytes, or everything until the peer closes, at most `limit`.
    public func readBody(limit: Int = 1 << 20) throws(HTTPError) -> [UInt8] {
        let wanted = head.headers["Content-Length"].flatMap(Int.init).map { min($0, limit) } ?? limit
        var body = Array(early.prefix(wanted))
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while body.count < wanted {
            guard let count = try receive(into: &buffer) else { _ = try waitFor(POLLIN); continue }
            if count == 0 { break }
            body.append(contentsOf: buffer[..<min(count, wanted - body.count)])
        }
        return body
    }

    /// Sends `input` (then closes our sending side, which the peer reads as end of input) while
    /// handing every byte the peer sends to `output`, until the peer closes the connection.
    public func exchange(input: RequestBody, output: (UnsafeRawBufferPointer) throws -> Void) throws(HTTPError) -> Traffic {
        guard let source = try input.makeSource(method: "POST") else { preconditionFailure("POST always has a source") }
        var pump = Pump(source: source)
        var traffic = Traffic(sent: 0, received: Int64(early.count), inputComplete: false)
        do {
            try early.withUnsafeBytes { try output($0) }
            try run(&pump, traffic: &traffic, output: output)
        } catch {
            _ = source.finish()
            throw HTTPError.aborted(by: error)
        }
        if let failure = source.finish() { throw HTTPError.aborted(by: failure) }
        traffic.inputComplete = pump.state == .closed
        return traffic
    }

    /// Input moves from the source to `pending` to the socket; `state` says how far it got.
    private struct Pump {
        enum State { case open, draining, closed, abandoned }
        let source: BodySource
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        var pending = 0 ..< 0
        var state = State.open
    }

    private func run(_ pump: inout Pump, traffic: inout Traffic, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        var incoming = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            if pump.state == .open, pump.pending.isEmpty, pump.source.readinessDescriptor == nil {
                try refill(&pump)
            }
            if pump.state == .draining, pump.pending.isEmpty, try closeSending() { pump.state = .closed }
            let wantsInput = pump.state == .open && pump.pending.isEmpty
            let wantsWrite = !pump.pending.isEmpty || pump.state == .draining
            let ready = try waitFor(wantsWrite ? POLLIN | POLLOUT : POLLIN, also: wantsInput ? pump.source.readinessDescriptor : nil)
            if ready.connection & (POLLIN | POLLHUP | POLLERR) != 0 {
                guard try drain(into: &incoming, traffic: &traffic, output: output) else {
                    if pump.state == .open || pump.state == .draining { pump.state = .abandoned }
                    return
                }
            }
            if ready.connection & POLLOUT != 0, !pump.pending.isEmpty {
                try flush(&pump, traffic: &traffic)
            }
            if ready.other & (POLLIN | POLLHUP) != 0 {
                try refill(&pump)
            }
        }
    }

    /// Receives until the socket has nothing more; false once the peer has closed.
    private func drain(into buffer: inout [UInt8], traffic: inout Traffic, output: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        while let count = try receive(into: &buffer) {
            if count == 0 { return false }
            traffic.received += Int64(count)
            try buffer.withUnsafeBytes { try output(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        return true
    }

    private func refill(_ pump: inout Pump) throws {
        let count = try pump.buffer.withUnsafeMutableBytes { try pump.source.read(into: $0) }
        pump.pending = 0 ..< count
        if count == 0 { pump.state = .draining }
    }

    /// A peer that stops reading (the process exited) may still have output for us: the input
    /// is abandoned and reading goes on until the peer closes.
    private func flush(_ pump: inout Pump, traffic: inout Traffic) throws {
        do {
            let sent = try Self.send(pump.buffer, pump.pending, handle: handle)
            pump.pending = pump.pending.dropFirst(sent)
            traffic.sent += Int64(sent)
        } catch where error.kind == .sendFailed {
            pump.pending = 0 ..< 0
            pump.state = .abandoned
        }
    }

    /// Closes our sending side only: shutdown(SHUT_WR) on plain sockets, close_notify on TLS
    /// (as Go's tls.Conn.CloseWrite, which the Docker CLI uses). False when TLS must wait for room.
    private func closeSending() throws(HTTPError) -> Bool {
        if !isTLS {
            guard shutdown(socket, Int32(SHUT_WR)) == 0 else {
                throw HTTPError(kind: .sendFailed, message: "closing the sending side: \(errnoDescription())")
            }
            return true
        }
        switch ccurl_tls_close_notify(handle.raw) {
        case 1: return true
        case 0: return false
        default: throw HTTPError(kind: .tls, message: "sending TLS close_notify failed")
        }
    }

    // MARK: - The socket, through curl

    private func receive(into buffer: inout [UInt8]) throws(HTTPError) -> Int? {
        try Self.receive(into: &buffer, handle: handle)
    }

    private func waitFor(_ events: Int32, also other: Int32? = nil) throws(HTTPError) -> (connection: Int32, other: Int32) {
        try Self.waitFor(events, socket: socket, also: other, idleTimeout: idleTimeout)
    }

    /// Bytes received, 0 at end of stream, nil when nothing is there yet.
    private static func receive(into buffer: inout [UInt8], handle: EasyHandle) throws(HTTPError) -> Int? {
        var count = 0
        let code = buffer.withUnsafeMutableBytes { curl_easy_recv(handle.raw, $0.baseAddress, $0.count, &count) }
        if code == CURLE_AGAIN { return nil }
        guard code == CURLE_OK else { throw HTTPError(code: code, message: handle.message(for: code), url: "") }
        return count
    }

    /// Bytes of `bytes[range]` sent, 0 when the socket is full.
    private static func send(_ bytes: [UInt8], _ range: Range<Int>, handle: EasyHandle) throws(HTTPError) -> Int {
        var count = 0
        let code = bytes.withUnsafeBytes { curl_easy_send(handle.raw, $0.baseAddress! + range.lowerBound, range.count, &count) }
        if code == CURLE_AGAIN { return 0 }
        guard code == CURLE_OK else { throw HTTPError(code: code, message: handle.message(for: code), url: "") }
        return count
    }

    private static func sendAll(_ bytes: [UInt8], handle: EasyHandle, socket: Int32, idleTimeout: Duration) throws(HTTPError) {
        var offset = 0
        while offset < bytes.count {
            let sent = try send(bytes, offset ..< bytes.count, handle: handle)
            if sent == 0 { _ = try waitFor(POLLOUT, socket: socket, idleTimeout: idleTimeout) }
            offset += sent
        }
    }

    private static func readHead(handle: EasyHandle, socket: Int32, idleTimeout: Duration) throws(HTTPError) -> (ResponseHead, [UInt8]) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            guard let count = try receive(into: &buffer, handle: handle) else {
                _ = try waitFor(POLLIN, socket: socket, idleTimeout: idleTimeout)
                continue
            }
            guard count > 0 else {
                throw HTTPError(kind: .receiveFailed, message: "the server closed the connection before it answered")
            }
            received += buffer[..<count]
            if let head = try ResponseHead.parse(received) { return (head, Array(received[head.length...])) }
        }
    }

    /// poll() on the connection (and another descriptor); nothing moving for `idleTimeout` fails.
    private static func waitFor(_ events: Int32, socket: Int32, also other: Int32? = nil,
                              idleTimeout: Duration) throws(HTTPError) -> (connection: Int32, other: Int32) {
        var fds = [pollfd(fd: socket, events: Int16(events), revents: 0)]
        if let other { fds.append(pollfd(fd: other, events: Int16(POLLIN), revents: 0)) }
        while true {
            let ready = poll(&fds, nfds_t(fds.count), Int32(clamping: idleTimeout.milliseconds))
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { throw HTTPError(kind: .other, message: "poll: \(errnoDescription())") }
            guard ready > 0 else {
                throw HTTPError(kind: .timedOut, message: "nothing moved on the connection for \(idleTimeout)")
            }
            return (Int32(fds[0].revents), fds.count > 1 ? Int32(fds[1].revents) : 0)
        }
    }

    /// The request line, headers (`Host` from the URL unless given) and a small body.
    static func wireFormat(of request: HTTPRequest) throws(HTTPError) -> [UInt8] {
        let body: [UInt8]
        switch request.body {
        case .none: body = []
        case .bytes(let bytes): body = bytes
        case .file, .stream: throw HTTPError(kind: .other, message: "a hijacking request carries a small body in memory")
        }
        guard let schemeEnd = request.url.range(of: "://") else {
            throw HTTPError(kind: .other, message: "'\(request.url)' is not an absolute URL")
        }
        let rest = request.url[schemeEnd.upperBound...]
        let authority = rest.prefix { !"/?#".contains($0) }
        let target = rest.dropFirst(authority.count).prefix { $0 != "#" }
        var headers = request.headers
        if headers["Host"] == nil { headers["Host"] = String(authority) }
        headers["Content-Length"] = String(body.count)
        let lines = try HTTPClient.headerLines(headers)
        let text = "\(request.method) \(target.isEmpty ? "/" : target) HTTP/1.1\r\n" + lines.map { "\($0)\r\n" }.joined() + "\r\n"
        return Array(text.utf8) + body
    }
}

extension HTTPClient {
    /// Connects, sends `request` and reads the response head. When the server switched
    /// protocols (`101`, or the Engine API's `200` with a raw stream), the connection's
    /// `exchange` carries the stream; otherwise `readBody` gives the error's body.
    public func hijack(_ request: HTTPRequest, tls: TLSOptions? = nil, unixSocket: String? = nil) throws(HTTPError) -> HijackedConnection {
        let log = configuration.debug.map(DebugLog.init)
        log?.request(request, unixSocket: unixSocket)
        do throws(HTTPError) {
            let handle = try EasyHandle()
            try configure(handle, for: HTTPRequest(url: request.url), body: nil, tls: tls, unixSocket: unixSocket)
            // The stream is HTTP/1.1's upgrade: ALPN must not pick HTTP/2.
            try handle.set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
            try handle.set(CURLOPT_CONNECT_ONLY, 1)
            let code = handle.perform()
            guard code == CURLE_OK else { throw HTTPError(code: code, message: handle.message(for: code), url: "") }
            let connection = try HijackedConnection(request: request, handle: handle, isTLS: request.url.lowercased().hasPrefix("https:"),
                                                    idleTimeout: configuration.lowSpeedTime)
            log?.status(connection.head.status, "HTTP/1.1 \(connection.head.status)")
            return connection
        } catch {
            var error = error
            error.url = Self.redactingSecrets(in: request.url)
            log?.failure(error)
            throw error
        }
    }
}
