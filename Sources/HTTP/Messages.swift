/// What a request sends after its headers. Bodies are read as curl asks for them, so a
/// multi-gigabyte layer never sits in memory.
public enum RequestBody: Sendable {
    case none
    case bytes([UInt8])
    /// `length` bytes of the file at `path`, starting at `offset`.
    case file(path: String, offset: Int64, length: Int64)
    /// Bytes pushed by `producer` on its own thread while curl sends them. Without a
    /// `contentLength` HTTP/1.1 sends them chunked. `write` blocks while curl is behind,
    /// and throws once the transfer has ended.
    case stream(contentLength: Int64?, producer: @Sendable (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void)
}

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: HTTPHeaders
    public var body: RequestBody

    public init(method: String = "GET", url: String, headers: HTTPHeaders = [:], body: RequestBody = .none) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// What to do with the bytes of a response body.
public enum ResponseBody: Sendable {
    /// Keep them in `HTTPResponse.body`; more than `limit` bytes fail with `.responseTooLarge`.
    case collect(limit: Int)
    case discard
    /// Hand each piece to the closure as it arrives; `HTTPResponse.body` stays empty.
    case stream(@Sendable (UnsafeRawBufferPointer) throws -> Void)
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The URL that was requested (redirects are never followed).
    public var url: String
    /// "1.0", "1.1", "2" or "3".
    public var httpVersion: String

    public init(status: Int, headers: HTTPHeaders, body: [UInt8], url: String, httpVersion: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.httpVersion = httpVersion
    }
}

public struct TLSOptions: Sendable, Equatable {
    /// PEM bundle that replaces the system's trusted CAs.
    public var caFile: String?
    /// PEM client certificate and its PEM key, for servers that authenticate clients.
    public var clientCertificate: String?
    public var clientKey: String?
    /// Off only when the user said so (an "insecure" registry, `DOCKER_TLS_VERIFY` unset).
    public var verify: Bool

    public init(caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil, verify: Bool = true) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.verify = verify
    }
}
