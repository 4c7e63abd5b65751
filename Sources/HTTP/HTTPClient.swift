import CCurl
import Foundation
import Synchronization

/// The tool's one HTTP client. `send` blocks; run requests on several threads to overlap
/// them. Idle curl handles are pooled so their connections are kept alive between requests.
public final class HTTPClient: Sendable {
    let configuration: HTTPClientConfiguration
    /// Handles not in use; each is used by one thread at a time, taken out of here first.
    private let idle = Mutex<[EasyHandle]>([])

    /// curl_global_init is not thread-safe, so it runs once, from a lazy static.
    private static let globalInit: CURLcode = ccurl_global_init()

    public init(configuration: HTTPClientConfiguration = .init()) {
        _ = Self.globalInit
        self.configuration = configuration
    }

    /// Sends `request` and returns whatever response arrives, 3xx and 5xx included:
    /// redirects are left to the caller, who must decide whether credentials may follow.
    /// An error thrown by a body closure ends the transfer and comes back as the
    /// `underlying` error of an `.aborted` HTTPError.
    public func send(_ request: HTTPRequest, response: ResponseBody = .collect(limit: 16 << 20), tls: TLSOptions? = nil,
                     unixSocket: String? = nil,
                     progress: (@Sendable (_ sentBytes: Int64, _ receivedBytes: Int64) -> Void)? = nil) throws(HTTPError) -> HTTPResponse {
        let log = configuration.debug.map(DebugLog.init)
        log?.request(request, unixSocket: unixSocket)
        do {
            let headers = try HeaderList(Self.headerLines(request.headers))
            let transfer = Transfer(source: try request.body.makeSource(method: request.method), responseBody: response,
                                    progress: progress, log: log)
            return try perform(request, headers: headers, transfer: transfer, tls: tls, unixSocket: unixSocket)
        } catch {
            var error = error
            error.url = Self.redactingSecrets(in: request.url)
            log?.failure(error)
            throw error
        }
    }

    private func perform(_ request: HTTPRequest, headers: HeaderList, transfer: Transfer, tls: TLSOptions?,
                         unixSocket: String?) throws(HTTPError) -> HTTPResponse {
        let handle = try checkout()
        defer { checkin(handle) }
        try configure(handle, for: request, body: transfer.source, tls: tls, unixSocket: unixSocket)
        try handle.set(CURLOPT_HTTPHEADER, headers)
        try transfer.install(on: handle)
        let code = withExtendedLifetime(headers) { handle.perform() }
        let producerFailure = transfer.finish()
        guard code == CURLE_OK else {
            throw transfer.failure ?? HTTPError(code: code, message: handle.message(for: code), url: "")
        }
        if let producerFailure { throw producerFailure }
        return HTTPResponse(status: handle.info(CURLINFO_RESPONSE_CODE), headers: transfer.headers, body: transfer.body,
                            url: request.url, httpVersion: Self.versionName(handle.info(CURLINFO_HTTP_VERSION)))
    }

    private func checkout() throws(HTTPError) -> EasyHandle {
        if let handle = idle.withLock({ $0.popLast() }) { return handle }
        return try EasyHandle()
    }

    /// A handle beyond `maxIdleHandles` is dropped after the lock is released, with its connections.
    private func checkin(_ handle: EasyHandle) {
        idle.withLock { idle in
            if idle.count < configuration.maxIdleHandles { idle.append(handle) }
        }
    }

    /// An empty value is sent as `Name;`, because curl reads `Name:` as "remove this header".
    static func headerLines(_ headers: HTTPHeaders) throws(HTTPError) -> [String] {
        var lines: [String] = []
        for (name, value) in headers {
            guard !(name + value).contains(where: \.isNewline) else {
                throw HTTPError(kind: .other, message: "header \(name) contains a line break")
            }
            lines.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        return lines
    }

    private static func versionName(_ version: Int) -> String {
        switch version {
        case CURL_HTTP_VERSION_1_0: "1.0"
        case CURL_HTTP_VERSION_1_1: "1.1"
        case CURL_HTTP_VERSION_2_0: "2"
        case CURL_HTTP_VERSION_3: "3"
        default: ""
        }
    }
}
