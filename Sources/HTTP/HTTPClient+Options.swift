import CCurl

extension HTTPClient {
    /// Sets every option a request needs; the handle may carry options of its previous request.
    func configure(_ handle: EasyHandle, for request: HTTPRequest, body: BodySource?, tls: TLSOptions?,
                   unixSocket: String?) throws(HTTPError) {
        try handle.reset()
        try applyDefaults(to: handle)
        try handle.set(CURLOPT_URL, request.url)
        try applyMethod(request.method, body: body, to: handle)
        try applyRoute(url: request.url, unixSocket: unixSocket, to: handle)
        if let tls {
            try apply(tls, to: handle)
        }
    }

    /// Redirects stay off (curl's default): the registry client follows them itself.
    private func applyDefaults(to handle: EasyHandle) throws(HTTPError) {
        // Signals are process-wide; without this curl uses SIGALRM for DNS timeouts.
        try handle.set(CURLOPT_NOSIGNAL, 1)
        // A Location from a server must not make us read file:// URLs.
        try handle.set(CURLOPT_PROTOCOLS_STR, "http,https")
        try handle.set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS)
        try handle.set(CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.milliseconds)
        // No total timeout: a slow but moving upload of a large layer must be allowed to finish.
        try handle.set(CURLOPT_LOW_SPEED_LIMIT, configuration.lowSpeedLimit)
        try handle.set(CURLOPT_LOW_SPEED_TIME, max(1, configuration.lowSpeedTime.milliseconds / 1000))
        try handle.set(CURLOPT_USERAGENT, configuration.userAgent)
        try handle.set(CURLOPT_TCP_KEEPALIVE, 1)
        try handle.set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
    }

    /// Without a body this is a GET (curl's default) or a HEAD. Every body goes through the read callback as an upload, with the method set by name,
    /// so one path serves PUT, POST and PATCH alike.
    private func applyMethod(_ method: String, body: BodySource?, to handle: EasyHandle) throws(HTTPError) {
        if let body {
            try handle.set(CURLOPT_UPLOAD, 1)
            try handle.set(CURLOPT_INFILESIZE_LARGE, large: body.length ?? -1)
            try handle.set(CURLOPT_CUSTOMREQUEST, method)
        } else if method == "HEAD" {
            try handle.set(CURLOPT_NOBODY, 1)
        }
    }

    /// An empty CURLOPT_PROXY keeps curl from reading the environment itself, so
    /// `configuration.proxy` is the only source; Unix sockets never go through a proxy.
    private func applyRoute(url: String, unixSocket: String?, to handle: EasyHandle) throws(HTTPError) {
        if let unixSocket {
            try handle.set(CURLOPT_UNIX_SOCKET_PATH, unixSocket)
            try handle.set(CURLOPT_PROXY, "")
        } else {
            try handle.set(CURLOPT_PROXY, configuration.proxy.proxy(for: url))
            try handle.set(CURLOPT_NOPROXY, configuration.proxy.noProxy ?? "")
        }
    }

    private func apply(_ tls: TLSOptions, to handle: EasyHandle) throws(HTTPError) {
        if let caFile = tls.caFile {
            try handle.set(CURLOPT_CAINFO, caFile)
        }
        if let certificate = tls.clientCertificate {
            try handle.set(CURLOPT_SSLCERT, certificate)
            try handle.set(CURLOPT_SSLCERTTYPE, "PEM")
        }
        if let key = tls.clientKey {
            try handle.set(CURLOPT_SSLKEY, key)
            try handle.set(CURLOPT_SSLKEYTYPE, "PEM")
        }
        try handle.set(CURLOPT_SSL_VERIFYPEER, tls.verify ? 1 : 0)
        try handle.set(CURLOPT_SSL_VERIFYHOST, tls.verify ? 2 : 0)
    }
}

extension Duration {
    var milliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }
}
