/// Turns a transfer into the lines the debug hook receives, with secrets replaced.
struct DebugLog {
    let write: @Sendable (String) -> Void

    /// Headers that carry credentials; `X-Registry-Auth` is how Docker's Engine API passes them.
    static let secretHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-registry-auth"]

    func request(_ request: HTTPRequest, unixSocket: String?) {
        let via = unixSocket.map { " (via \($0))" } ?? ""
        write("> \(request.method) \(HTTPClient.redactingCredentials(in: request.url))\(via)")
        for (name, value) in request.headers {
            header(">", name: name, value: value)
        }
    }

    func header(_ direction: String, name: String, value: String) {
        let shown = Self.secretHeaders.contains(name.lowercased()) ? "<redacted>" : value
        write("\(direction) \(name): \(shown)")
    }

    func status(_ status: Int, _ line: String) {
        write("< \(status) (\(line.prefix { $0 != " " }))")
    }

    func failure(_ error: HTTPError) {
        write("! \(error.kind): \(error)")
    }
}
