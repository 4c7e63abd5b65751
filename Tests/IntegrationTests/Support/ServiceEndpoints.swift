import Foundation

/// A registry that wants credentials (Basic auth, or a token server that knows this user).
struct AuthenticatedRegistry: Sendable {
    /// `127.0.0.1:PORT`
    var address: String
    var user: String
    var password: String

    /// `user:password`, as skopeo's `--creds`/`--dest-creds` want it.
    var credentials: String { "\(user):\(password)" }
}

/// The HTTPS registry and the CA that signed its certificate.
struct TLSRegistry: Sendable {
    /// `127.0.0.1:PORT` (its certificate names 127.0.0.1 and localhost).
    var address: String
    /// PEM CA certificate.
    var caPath: String

    /// Makes `dir` a certificate directory holding only `ca.crt`, the layout of
    /// `/etc/containers/certs.d/HOST/` that skopeo's `--cert-dir`/`--dest-cert-dir` read.
    @discardableResult
    func makeCertDir(_ dir: URL) throws -> URL {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: caPath, toPath: dir.appending(path: "ca.crt").path)
        return dir
    }
}

/// The registry with token auth and the token server the tests bring (scripts/lib/token_server.py).
struct TokenRegistry: Sendable {
    /// Address and the one user who may push (anonymous clients get pull only).
    var registry: AuthenticatedRegistry
    var server: TokenServer
    var address: String { registry.address }
}

/// Control of scripts/lib/token_server.py.
struct TokenServer: Sendable {
    /// `http://127.0.0.1:PORT`; tokens come from `GET /token`.
    var url: String

    /// Counters such as `"GET /token"`, `"issued"`, `"issued anonymous"`, `"issued user"`,
    /// `"denied"` (wrong credentials), `"bad request"`. Absent keys mean 0.
    func stats() throws -> [String: Int] { try ControlEndpoint.counters(from: "\(url)/stats") }

    /// Zeroes the counters.
    func reset() throws { _ = try ControlEndpoint.post("\(url)/reset", json: [String: Int]()) }

    /// Sets `expires_in` of the tokens issued from now on (the service starts with
    /// `$SIT_TOKEN_EXPIRES_IN`, default 300). The registry accepts tokens up to 60 s past `exp`.
    func setExpiresIn(_ seconds: Int) throws {
        _ = try ControlEndpoint.post("\(url)/config", json: ["expires_in": seconds])
    }
}

/// Control of scripts/lib/fault_proxy.py, the fault-injecting proxy in front of `SIT_REGISTRY`.
/// The proxy is shared by every test of a run: scope rules and stats to a repository name of your
/// own (`pathRegex: "/v2/my-repo/blobs/uploads/"`, `stats(matching: "/v2/my-repo/")`), and do not
/// call `reset()` from suites that may run in parallel with other fault-proxy users.
struct FaultProxy: Sendable {
    /// `127.0.0.1:PORT`: use it where a test would use `SIT_REGISTRY`.
    var address: String
    /// `http://127.0.0.1:PORT2`
    var control: String

    /// One fault. The first rule whose `method` (or `"*"`) and `pathRegex` (searched in path and
    /// query) match, and that has fired fewer than `times` times (nil: always), applies, after
    /// `skip` matching requests were let through.
    struct Rule: Encodable, Sendable {
        enum Action: String, Encodable, Sendable {
            /// Answer `status` (with `Retry-After: retryAfter`) after discarding the request body.
            case status
            /// Forward `afterBytes` bytes of the request body, then close both connections.
            case cut
            /// Wait `seconds`, then forward.
            case delay
            /// Forward, then change a GET's response: `append` bytes more, `truncate` fewer, or
            /// its first byte flipped (Content-Length follows the changed body); or only the first
            /// `cutAt` bytes and a closed connection; `headers` replace the upstream's.
            case body
        }
        var method: String = "*"
        var pathRegex: String
        var action: Action
        var status: Int? = nil
        var retryAfter: Int? = nil
        var afterBytes: Int? = nil
        var seconds: Double? = nil
        var times: Int? = nil
        var skip: Int? = nil
        /// Extra headers of a `status` answer; `{canary}` and `{path}` are filled in by the proxy.
        var headers: [String: String]? = nil
        var append: Int? = nil
        var truncate: Int? = nil
        var flip: Bool? = nil
        var cutAt: Int? = nil

        enum CodingKeys: String, CodingKey {
            case method, action, status, times, skip, seconds, headers, append, truncate, flip
            case cutAt = "cut_at"
            case pathRegex = "path_regex", retryAfter = "retry_after", afterBytes = "after_bytes"
        }

        static func status(_ status: Int, method: String = "*", path pathRegex: String,
                           retryAfter: Int? = nil, times: Int? = 1, skip: Int? = nil) -> Rule {
            Rule(method: method, pathRegex: pathRegex, action: .status, status: status,
                 retryAfter: retryAfter, times: times, skip: skip)
        }

        static func cut(method: String, path pathRegex: String, afterBytes: Int, times: Int? = 1) -> Rule {
            Rule(method: method, pathRegex: pathRegex, action: .cut, afterBytes: afterBytes, times: times)
        }

        static func answer(_ status: Int, method: String, path pathRegex: String, headers: [String: String], times: Int? = nil) -> Rule {
            Rule(method: method, pathRegex: pathRegex, action: .status, status: status, times: times, headers: headers)
        }

        static func lie(path pathRegex: String, append: Int? = nil, truncate: Int? = nil, flip: Bool? = nil, cutAt: Int? = nil,
                        headers: [String: String]? = nil, times: Int? = nil) -> Rule {
            Rule(method: "GET", pathRegex: pathRegex, action: .body, times: times, headers: headers, append: append, truncate: truncate,
                 flip: flip, cutAt: cutAt)
        }

        static func delay(_ seconds: Double, method: String = "*", path pathRegex: String, times: Int? = 1) -> Rule {
            Rule(method: method, pathRegex: pathRegex, action: .delay, seconds: seconds, times: times)
        }
    }

    private struct Plan: Encodable { var rules: [Rule] }

    /// Replaces the proxy's rules with `rules`.
    func plan(_ rules: [Rule]) throws { _ = try ControlEndpoint.post("\(control)/plan", json: Plan(rules: rules)) }

    /// Removes all rules and forgets all requests.
    func reset() throws { _ = try ControlEndpoint.post("\(control)/reset", json: [String: Int]()) }

    /// Counters over the requests seen (only those whose path matches `regex`, if given):
    /// `"total"`, `"METHOD PATTERN"` (e.g. `"PUT /v2/*/blobs/uploads/*"`, `"HEAD /v2/*/blobs/*"`,
    /// `"POST /v2/*/blobs/uploads/?mount"`, `"PUT /v2/*/manifests/*"`), `"status N"` for what
    /// clients were answered, and `"fault status"`, `"fault cut"`, `"fault delay"`.
    func stats(matching regex: String? = nil) throws -> [String: Int] {
        var url = "\(control)/stats"
        if let regex {
            url += "?match=" + (regex.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? regex)
        }
        return try ControlEndpoint.counters(from: url)
    }

    /// What the canary, a listener on another host (127.0.0.2) that answers 401 naming a
    /// cleartext realm on itself, has received since the last reset.
    struct Canary: Decodable {
        struct Request: Decodable {
            var method: String
            var path: String
            var headers: [String: String]
            var body: String
        }
        /// `127.0.0.2:PORT`
        var address: String
        var requests: [Request]

        /// Whether `secret` went there anywhere: path, header or body.
        func received(_ secret: String) -> Bool {
            requests.contains { $0.path.contains(secret) || $0.body.contains(secret) || $0.headers.values.contains { $0.contains(secret) } }
        }
    }

    func canary() throws -> Canary { try JSONDecoder().decode(Canary.self, from: ControlEndpoint.get("\(control)/canary")) }

    /// The plan (`plan(_:)`) and stats (`stats(matching:)`) of the proxy named by `SIT_FAULT_*`.
    /// Throws `ServiceUnavailable` when it is not running: callers guard with
    /// `TestServices.faultProxy()` first.
    static func current() throws -> FaultProxy {
        guard let proxy = try TestServices.faultProxy() else { throw ServiceUnavailable(service: .faultProxy) }
        return proxy
    }

    /// The proxy's plan and counters are global: suites run in parallel, so every test that
    /// plans faults or reads counters holds this for its whole body.
    static func exclusive<T>(_ body: (FaultProxy) throws -> T) throws -> T? {
        guard let proxy = try TestServices.faultProxy() else { return nil }
        return try exclusiveLock.withLock {
            try proxy.reset()
            defer { try? proxy.reset() }
            return try body(proxy)
        }
    }

    private static let exclusiveLock = NSLock()

    static func plan(_ rules: [Rule]) throws { try current().plan(rules) }
    static func reset() throws { try current().reset() }
    static func stats(matching regex: String? = nil) throws -> [String: Int] { try current().stats(matching: regex) }
}

/// The JSON control endpoints of the helper services, over curl (synchronous, loopback only).
enum ControlEndpoint {
    static func get(_ url: String) throws -> Data {
        try Command.run("curl", ["--noproxy", "*", "-sS", "--fail-with-body", "--max-time", "10", url]).check().stdoutData
    }

    static func post(_ url: String, json: some Encodable) throws -> Data {
        let body = try JSONEncoder().encode(json)
        return try Command.run("curl", [
            "--noproxy", "*", "-sS", "--fail-with-body", "--max-time", "10", "-X", "POST",
            "-H", "Content-Type: application/json", "--data-binary", "@-", url,
        ], stdin: body).check().stdoutData
    }

    static func counters(from url: String) throws -> [String: Int] {
        try JSONDecoder().decode([String: Int].self, from: get(url))
    }
}
