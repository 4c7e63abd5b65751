import Foundation

public struct HTTPClientConfiguration: Sendable {
    public var connectTimeout: Duration = .seconds(15)
    /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` is abandoned.
    /// There is no total timeout: a 2 GB layer on a slow link must be able to finish.
    public var lowSpeedLimit: Int = 1024
    public var lowSpeedTime: Duration = .seconds(60)
    public var userAgent = "spark-image-tool/0.1"
    /// Idle handles kept for their open connections; more concurrent requests still work.
    public var maxIdleHandles = 8
    public var proxy = ProxySettings(environment: ProcessInfo.processInfo.environment)
    /// Receives one line per request, response header and failure, with secrets redacted.
    public var debug: (@Sendable (String) -> Void)?

    public init() {}
}

/// Which proxy each URL goes through. The client sets curl's proxy options from this alone,
/// so tests can pass an environment without touching the process's one.
public struct ProxySettings: Sendable, Equatable {
    public var httpProxy: String?
    public var httpsProxy: String?
    /// curl's syntax, which is also Docker's: comma-separated hosts, domains, IPs, CIDRs, or `*`.
    public var noProxy: String?

    public init(httpProxy: String? = nil, httpsProxy: String? = nil, noProxy: String? = nil) {
        self.httpProxy = httpProxy
        self.httpsProxy = httpsProxy
        self.noProxy = noProxy
    }

    /// Lower case wins over upper case, as in curl. Unlike curl, `HTTP_PROXY` counts too:
    /// Docker and Go honour it, and curl skips it only to protect CGI programs, which we are not.
    public init(environment: [String: String]) {
        func first(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        self.init(
            httpProxy: first("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"),
            httpsProxy: first("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"),
            noProxy: first("no_proxy", "NO_PROXY"))
    }

    /// The proxy for `url` before `noProxy` is applied (curl applies it); "" means none.
    func proxy(for url: String) -> String {
        let scheme = url.prefix { $0 != ":" }.lowercased()
        switch scheme {
        case "https": return httpsProxy ?? ""
        case "http": return httpProxy ?? ""
        default: return ""
        }
    }
}
