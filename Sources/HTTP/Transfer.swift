import CCurl

/// The state of one request while curl runs it. curl's callbacks are C functions, so they
/// find this object again through the context pointer they are given.
final class Transfer {
    let source: BodySource?
    private let responseBody: ResponseBody
    private let progress: (@Sendable (_ sent: Int64, _ received: Int64) -> Void)?
    private let log: DebugLog?
    private(set) var status = 0
    private(set) var headers = HTTPHeaders()
    private(set) var body: [UInt8] = []
    /// What a callback stopped the transfer for; it explains curl's code better than curl can.
    private(set) var failure: HTTPError?

    /// Bodies of non-2xx responses are collected up to this size instead of streamed, so a
    /// registry's error JSON never lands in a blob file or hasher.
    static let errorBodyLimit = 1 << 20

    init(source: BodySource?, responseBody: ResponseBody, progress: (@Sendable (Int64, Int64) -> Void)?, log: DebugLog?) {
        self.source = source
        self.responseBody = responseBody
        self.progress = progress
        self.log = log
    }

    func install(on handle: EasyHandle) throws(HTTPError) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        try handle.set(CURLOPT_HEADERFUNCTION) { data, size, count, context in
            Transfer.from(context).receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count))
        }
        try handle.set(CURLOPT_HEADERDATA, context)
        try handle.set(CURLOPT_WRITEFUNCTION) { data, size, count, context in
            Transfer.from(context).receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        }
        try handle.set(CURLOPT_WRITEDATA, context)
        if source != nil {
            try installBodySource(on: handle, context: context)
        }
        if progress != nil {
            try installProgress(on: handle, context: context)
        }
    }

    private func installBodySource(on handle: EasyHandle, context: UnsafeMutableRawPointer) throws(HTTPError) {
        try handle.set(CURLOPT_READFUNCTION) { data, size, count, context in
            Transfer.from(context).sendBody(UnsafeMutableRawBufferPointer(start: data, count: size * count))
        }
        try handle.set(CURLOPT_READDATA, context)
        try handle.set(CURLOPT_SEEKFUNCTION) { context, offset, _ in
            Transfer.from(context).rewind(to: offset)
        }
        try handle.set(CURLOPT_SEEKDATA, context)
    }

    private func installProgress(on handle: EasyHandle, context: UnsafeMutableRawPointer) throws(HTTPError) {
        try handle.set(CURLOPT_XFERINFOFUNCTION) { context, _, received, _, sent in
            Transfer.from(context).progress?(Int64(sent), Int64(received))
            return 0
        }
        try handle.set(CURLOPT_XFERINFODATA, context)
        try handle.set(CURLOPT_NOPROGRESS, 0)
    }

    /// Waits for the producer of a streamed body; a failure of its own outranks a response.
    func finish() -> HTTPError? {
        source?.finish().map(HTTPError.aborted(by:))
    }

    private static func from(_ context: UnsafeMutableRawPointer?) -> Transfer {
        Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    }

    private func receiveHeader(_ bytes: UnsafeRawBufferPointer) -> Int {
        var line = String(decoding: bytes, as: UTF8.self)
        while line.last?.isNewline == true { line.removeLast() }
        if line.hasPrefix("HTTP/") {
            // A new status line (after 100 Continue, say) starts a new header block.
            status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            headers = HTTPHeaders()
            log?.status(status, line)
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingBlanks
            headers.add(name: name, value: value)
            log?.header("<", name: name, value: value)
        }
        return bytes.count
    }

    private func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        do {
            try deliver(bytes)
            return bytes.count
        } catch {
            failure = .aborted(by: error)
            return 0
        }
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer) throws {
        switch responseBody {
        case .discard:
            break
        case .collect(let limit):
            guard body.count + bytes.count <= limit else {
                throw HTTPError(kind: .responseTooLarge, message: "the response body is larger than \(limit) bytes")
            }
            body.append(contentsOf: bytes)
        case .stream(let consume):
            if (200 ..< 300).contains(status) {
                try consume(bytes)
            } else {
                body.append(contentsOf: bytes.prefix(Self.errorBodyLimit - body.count))
            }
        }
    }

    private func sendBody(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        do {
            return try source!.read(into: buffer)
        } catch {
            failure = .aborted(by: error)
            return ccurl_readfunc_abort
        }
    }

    private func rewind(to offset: curl_off_t) -> Int32 {
        offset == 0 && source!.rewind() ? ccurl_seekfunc_ok : ccurl_seekfunc_cantseek
    }
}

extension StringProtocol {
    var trimmingBlanks: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
