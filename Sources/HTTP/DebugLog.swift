/// Turns a transfer into the lines the debug hook receives, with secrets replaced.
struct DebugLog {
    let write: @Sendable (String) -> Void

    /// Headers that carry credentials; `X-Registry-Auth` is how Docker's Engine API passes them.
    static let secretHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-registry-auth"]

    /// Headers holding URLs, whose query strings may carry secrets (upload `_state`, signatures).
    static let urlHeaders: Set<String> = ["location", "content-location", "link"]

    func request(_ request: HTTPRequest, unixSocket: String?) {
        let via = unixSocket.map { " (via \($0))" } ?? ""
        write("> \(request.method) \(HTTPClient.redactingSecrets(in: request.url))\(via)")
        for (name, value) in request.headers {
            header(">", name: name, value: value)
        }
    }

    func header(_ direction: String, name: String, value: String) {
        let lower = name.lowercased()
        let shown = Self.secretHeaders.contains(lower) ? "<redacted>" : Self.urlHeaders.contains(lower) ? HTTPClient.redactingSecrets(in: value) : value
        write("\(direction) \(name): \(shown)")
    }

    func status(_ status: Int, _ line: String) {
        write("< \(status) (\(line.prefix { $0 != " " }))")
    }

    func failure(_ error: HTTPError) {
        write("! \(error.kind): \(error)")
    }
}
