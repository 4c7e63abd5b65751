import Foundation
import HTTP
import Synchronization

/// Talks the OCI distribution API to one registry: picks the scheme, authenticates (Basic, or
/// Bearer tokens cached per scope), retries what is worth retrying, and turns failures into
/// messages that name the registry, the status and the registry's own error codes.
public final class RegistryClient: Sendable {
    /// host[:port] as written in image references.
    public let registry: String
    let options: RegistryOptions
    let http: HTTPClient
    let tls: TLSOptions
    private let state: Mutex<State>
    /// Held while probing, so that concurrent first requests probe once, not once each.
    private let probeLock = Mutex(())

    /// What the client learns as it goes, shared by the threads of one command.
    private struct State {
        var resolvedBase: String?
        var challenge: AuthChallenge?
        var tokens: [String: Token] = [:]
        var loadedCredentials: Credentials??
    }

    struct Token {
        var value: String
        var expires: Date
    }

    /// `credentials` replaces the stored ones (for `login`, which checks them before storing).
    public init(registry: String, options: RegistryOptions, http: HTTPClient, credentials: Credentials? = nil) {
        self.registry = registry
        self.options = options
        self.http = http
        tls = options.tls(for: registry)
        state = Mutex(State(loadedCredentials: credentials.map { .some($0) }))
    }

    /// GET /v2/ with the credentials: succeeds only if the registry (or its token server) accepts them.
    public func checkLogin() throws {
        _ = try base()
        let reply = try send("GET", "/v2/", scopes: [])
        guard reply.status == 200 else { throw failure(reply, action: "logging in", hint: "check the user name and password") }
    }

    /// Docker Hub's API lives at registry-1.docker.io.
    var apiHost: String { registry == "docker.io" ? "registry-1.docker.io" : registry }

    /// `https://host` or, where allowed and HTTPS fails, `http://host`. Learns the auth challenge.
    public func base() throws -> String {
        if let base = state.withLock({ $0.resolvedBase }) { return base }
        return try probeLock.withLock { _ in try probeOnce() }
    }

    private func probeOnce() throws -> String {
        if let base = state.withLock({ $0.resolvedBase }) { return base }
        var schemes = ["https"]
        if options.allowsPlainHTTP(registry) { schemes.append("http") }
        var errors: [any Error] = []
        for scheme in schemes {
            switch probe(scheme) {
            case .success(let challenge):
                let base = "\(scheme)://\(apiHost)"
                state.withLock { state in
                    state.resolvedBase = base
                    state.challenge = challenge
                }
                log("registry \(registry): using \(scheme)\(challenge.map { ", \($0.scheme.rawValue) auth" } ?? ", no auth")")
                return base
            case .failure(let error):
                log("registry \(registry): \(scheme) failed: \(error)")
                errors.append(error)
            }
        }
        // The HTTPS failure says more (a TLS problem) than the plain-HTTP fallback's.
        throw transportError(errors[0], action: "reach \(registry)")
    }

    /// GET /v2/ over one scheme: the auth challenge (if any) when the registry answers.
    private func probe(_ scheme: String) -> Result<AuthChallenge?, any Error> {
        let url = "\(scheme)://\(apiHost)/v2/"
        switch perform(HTTPRequest(method: "GET", url: url), response: .collect(limit: 1 << 16)) {
        case .failure(let error):
            return .failure(error)
        case .success(let response) where response.status == 200 || response.status == 401:
            return .success(response.headers["WWW-Authenticate"].flatMap(AuthChallenge.init(header:)))
        case .success(let response):
            return .failure(RegistryError("\(url) answered \(response.status); is \(registry) a container registry?", status: response.status))
        }
    }

    // MARK: - Sending with authentication and retries

    /// Sends a request to a path below the registry (or an absolute URL from a Location
    /// header), authenticating for `scopes` and retrying as the policy says.
    func send(_ method: String, _ pathOrURL: String, headers: HTTPHeaders = HTTPHeaders(), body: RequestBody = .none,
              scopes: [String], response: ResponseBody = .collect(limit: 1 << 20),
              beforeEachTry: (() -> Void)? = nil) throws -> HTTPResponse {
        let url = pathOrURL.hasPrefix("http") ? pathOrURL : try base() + pathOrURL
        var attempt = 1
        var reauthenticated = false
        while true {
            beforeEachTry?()
            var request = HTTPRequest(method: method, url: url, headers: headers, body: body)
            // Credentials go only to the registry that asked for them, never to a Location elsewhere.
            if Self.sameOrigin(url, try base()), let authorization = try authorization(for: scopes) {
                request.headers.add(name: "Authorization", value: authorization)
            }
            log("> \(method) \(Self.withoutQuery(url))")
            let reply: HTTPResponse
            switch perform(request, response: response) {
            case .success(let success):
                reply = success
            case .failure(let error):
                if let underlying = error.underlying { throw underlying }
                if error.kind == .responseTooLarge { throw error }
                guard case .retry(let delay) = options.retry.decide(attempt: attempt, outcome: .networkError(retryable: error.isRetryable),
                                                                    jitter: .random(in: 0..<1)) else {
                    throw transportError(error, action: "\(method) \(Self.withoutQuery(url))")
                }
                log("  \(error); retrying in \(String(format: "%.1f", delay))s")
                sleep(seconds: delay)
                attempt += 1
                continue
            }
            log("< \(reply.status)")
            // Only the registry itself may change how we authenticate: a 401 from an upload
            // Location or a redirect elsewhere could name a realm that collects credentials.
            if reply.status == 401, !reauthenticated, Self.sameOrigin(url, try base()),
               let header = reply.headers["WWW-Authenticate"], let fresh = AuthChallenge(header: header) {
                reauthenticated = true
                state.withLock { state in
                    state.challenge = fresh
                    state.tokens[Self.key(scopes)] = nil
                }
                continue
            }
            if case .retry(let delay) = options.retry.decide(attempt: attempt, outcome: .status(reply.status, retryAfter: reply.headers["Retry-After"]),
                                                             jitter: .random(in: 0..<1)) {
                log("  \(reply.status); retrying in \(String(format: "%.1f", delay))s")
                sleep(seconds: delay)
                attempt += 1
                continue
            }
            return reply
        }
    }

    private func perform(_ request: HTTPRequest, response: ResponseBody) -> Result<HTTPResponse, HTTPError> {
        do { return .success(try http.send(request, response: response, tls: tls(for: request.url))) } catch { return .failure(error) }
    }

    /// The Authorization header value for `scopes`, fetching a token when needed.
    private func authorization(for scopes: [String]) throws -> String? {
        guard let challenge = state.withLock({ $0.challenge }) else { return nil }
        switch challenge.scheme {
        case .basic:
            return try credentials().map(\.basicAuthorization)
        case .bearer:
            let key = Self.key(scopes)
            if let token = state.withLock({ $0.tokens[key] }), token.expires > Date() { return "Bearer \(token.value)" }
            let token = try fetchToken(challenge, scopes: scopes)
            state.withLock { $0.tokens[key] = token }
            return "Bearer \(token.value)"
        }
    }

    /// The token flow: GET realm?service=…&scope=… anonymously or with Basic credentials, or
    /// POST an OAuth refresh_token for identity tokens. Reads `token` or `access_token`.
    private func fetchToken(_ challenge: AuthChallenge, scopes: [String]) throws -> Token {
        guard let realm = challenge.realm else { throw RegistryError("\(registry) asked for a bearer token without saying where to get one (no realm)") }
        var query: [String] = []
        if let service = challenge.service { query.append("service=\(Self.escape(service))") }
        var allScopes = scopes
        if let scope = challenge.scope, !allScopes.contains(scope) { allScopes.append(scope) }
        query += allScopes.map { "scope=\(Self.escape($0))" }
        let credentials = try credentials()
        if credentials != nil, !options.mayReceiveCredentials(realm: realm, registryURL: try base()) {
            throw RegistryError("\(registry) names the token server \(Self.withoutQuery(realm)), on another host over plain HTTP; refusing to send credentials there",
                                hint: "the registry's configuration looks wrong or hostile; if you trust that host, name it with --insecure-registry \(Origin.authority(of: realm) ?? realm)")
        }
        var request: HTTPRequest
        if let credentials, credentials.isIdentityToken {
            var form = ["grant_type=refresh_token", "client_id=spark-image-tool", "refresh_token=\(Self.escape(credentials.secret))"]
            form += query
            request = HTTPRequest(method: "POST", url: realm, body: .bytes(Array(form.joined(separator: "&").utf8)))
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        } else {
            request = HTTPRequest(method: "GET", url: realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"))
            if let credentials { request.headers.add(name: "Authorization", value: credentials.basicAuthorization) }
        }
        log("> \(request.method) \(Self.withoutQuery(realm)) (token for \(allScopes.joined(separator: " ")))")
        let reply: HTTPResponse
        do { reply = try http.send(request, response: .collect(limit: 1 << 20), tls: tls(for: realm)) } catch {
            throw transportError(error, action: "get a token from \(realm)")
        }
        log("< \(reply.status)")
        guard reply.status == 200 else {
            let summary = RegistryErrorBody.summary(of: reply.body)
            throw RegistryError("\(registry): the token server \(realm) refused \(credentials == nil ? "anonymous access" : "the credentials for \(credentials!.username)") with \(reply.status)\(summary.text.isEmpty ? "" : ": \(summary.text)")",
                                hint: reply.status == 401 ? "check the user and password (spark-image-tool login \(registry))" : nil,
                                status: reply.status, codes: summary.codes)
        }
        struct TokenResponse: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
        }
        guard let parsed = try? JSONDecoder().decode(TokenResponse.self, from: Data(reply.body)),
              let value = parsed.token ?? parsed.access_token, !value.isEmpty else {
            throw RegistryError("\(registry): the token server \(realm) answered without a token")
        }
        // Renew a little early so a token never expires in flight.
        let lifetime = Double(max(parsed.expires_in ?? 60, 10))
        return Token(value: value, expires: Date().addingTimeInterval(lifetime * 0.9))
    }

    /// The registry's TLS settings (client certificate, insecure opt-in) are for its own host.
    /// Any other host (a token server, storage behind a redirect, an upload Location) gets its
    /// own: verified unless that host is named insecure, its certs.d or --ca-file, else the
    /// registry's CA (which such hosts often share).
    func tls(for url: String) -> TLSOptions {
        guard let target = Origin(url), target != Origin("\(target.scheme)://\(apiHost)"),
              let authority = Origin.authority(of: url) else { return tls }
        var own = options.tls(for: authority)
        if own.caFile == nil { own.caFile = tls.caFile }
        return own
    }

    private func credentials() throws -> Credentials? {
        if let loaded = state.withLock({ $0.loadedCredentials }) { return loaded }
        let found = try options.credentials.credentials(for: registry)
        state.withLock { $0.loadedCredentials = .some(found) }
        return found
    }

    /// Turns a transport failure into advice: TLS problems say how to trust the CA.
    func transportError(_ error: any Error, action: String) -> RegistryError {
        guard let error = error as? HTTPError else {
            return (error as? RegistryError) ?? RegistryError("cannot \(action): \(error)")
        }
        switch error.kind {
        case .tls:
            return RegistryError("cannot \(action): TLS failed: \(error)",
                                 hint: "trust the registry's CA with --ca-file FILE or /etc/docker/certs.d/\(registry)/ca.crt, or, if you accept the risk, --insecure-registry \(registry)")
        case .couldNotResolveHost:
            return RegistryError("cannot \(action): unknown host \(RegistryOptions.host(of: registry))", hint: "check the registry name in the image reference",
                                 kind: .unreachable)
        case .couldNotConnect:
            return RegistryError("cannot \(action): connection refused or unreachable", hint: "is the registry at \(registry) running?", kind: .unreachable)
        case .timedOut:
            return RegistryError("cannot \(action): \(error)", kind: .unreachable)
        default:
            return RegistryError("cannot \(action): \(error)")
        }
    }

    /// An HTTP error response as a RegistryError with the registry's codes and messages.
    func failure(_ reply: HTTPResponse, action: String, hint: String? = nil) -> RegistryError {
        let summary = RegistryErrorBody.summary(of: reply.body)
        var hint = hint
        if reply.status == 401 { hint = hint ?? "check the credentials for \(registry) (spark-image-tool login \(registry))" }
        if reply.status == 403 { hint = hint ?? "the credentials for \(registry) are not allowed to do this" }
        return RegistryError("\(action) on \(registry) failed with HTTP \(reply.status)\(summary.text.isEmpty ? "" : ": \(summary.text)")",
                             hint: hint, status: reply.status, codes: summary.codes)
    }

    func log(_ line: String) { options.log?(line) }

    private func sleep(seconds: Double) { Thread.sleep(forTimeInterval: seconds) }

    static func key(_ scopes: [String]) -> String { scopes.sorted().joined(separator: " ") }

    /// Same scheme, host (in any case) and effective port; a URL that does not parse is elsewhere.
    static func sameOrigin(_ url: String, _ base: String) -> Bool {
        guard let origin = Origin(url) else { return false }
        return origin == Origin(base)
    }

    static func withoutQuery(_ url: String) -> String { String(url.split(separator: "?", maxSplits: 1).first ?? "") }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
