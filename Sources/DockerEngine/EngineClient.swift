import Foundation
import HTTP

/// The parts of the Docker Engine API that preloading needs, over a Unix socket, plain tcp or
/// tcp with TLS client certificates. It is made connected: the API version both sides speak is
/// settled through /_ping before any other call.
public struct EngineClient: Sendable {
    public let endpoint: DockerEndpoint
    let transport: Transport
    private let apiVersion: String
    /// The newest API this client speaks; older daemons get their own version.
    static let maximumVersion = "1.43"

    /// `idleTimeout`: how long the daemon (or an exec's process) may send nothing before we give up.
    public init(connectingTo endpoint: DockerEndpoint, log: (@Sendable (String) -> Void)? = nil,
                idleTimeout: Duration = .seconds(1800)) throws {
        self.endpoint = endpoint
        var configuration = HTTPClientConfiguration()
        // The daemon may unpack layers for minutes after the upload before it answers.
        configuration.lowSpeedTime = idleTimeout
        configuration.debug = log
        configuration.proxy = ProxySettings()
        transport = Transport(endpoint: endpoint, http: HTTPClient(configuration: configuration))
        apiVersion = try Self.negotiateVersion(transport)
    }

    private static func negotiateVersion(_ transport: Transport) throws -> String {
        let reply = try transport.send("GET", "/_ping")
        guard reply.status == 200 else { throw Transport.failure(reply, action: "ping") }
        if let version = reply.headers["Api-Version"], compare(version, maximumVersion) < 0 { return version }
        return maximumVersion
    }

    public struct Version: Decodable, Sendable {
        public var Os: String
        public var Arch: String
        public var Version: String?
        public var ApiVersion: String?
    }

    public func version() throws -> Version {
        try decode(Version.self, try send("GET", "/version"), action: "read the daemon's version")
    }

    public struct Info: Decodable, Sendable {
        public var ID: String?
        public var Driver: String?
        public var DriverStatus: [[String]]?
    }

    public func info() throws -> Info {
        try decode(Info.self, try send("GET", "/info"), action: "read the daemon's info")
    }

    public struct ImageInspect: Decodable, Sendable {
        public struct RootFS: Decodable, Sendable { public var Layers: [String]? }
        public var Id: String
        public var RepoTags: [String]?
        public var RootFS: RootFS?
    }

    /// nil when the daemon has no such image.
    public func inspectImage(_ name: String) throws -> ImageInspect? {
        let reply = try send("GET", "/images/\(Self.escapePath(name))/json")
        if reply.status == 404 { return nil }
        return try decode(ImageInspect.self, reply, action: "inspect image \(name)")
    }

    public struct ImageSummary: Decodable, Sendable {
        public var Id: String
    }

    public func listImages() throws -> [ImageSummary] {
        try decode([ImageSummary].self, try send("GET", "/images/json?all=1"), action: "list images")
    }

    public func tag(_ image: String, repository: String, tag: String) throws {
        let reply = try send("POST", "/images/\(Self.escapePath(image))/tag?repo=\(Self.escapeQuery(repository))&tag=\(Self.escapeQuery(tag))")
        guard reply.status == 201 || reply.status == 200 else { throw failure(reply, action: "tag \(image) as \(repository):\(tag)") }
    }

    /// DELETE /images/{name}: the image record only; layers other images use stay.
    public func removeImage(_ name: String) throws {
        let reply = try send("DELETE", "/images/\(Self.escapePath(name))?noprune=1")
        guard reply.status == 200 else { throw failure(reply, action: "remove image \(name)") }
    }

    /// POST /images/load with the archive streamed from `produce`. The daemon answers 200 even
    /// when loading fails, so the JSON stream is read and any errorDetail is an error.
    public func load(_ produce: @escaping @Sendable (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> [String] {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-tar")
        headers.add(name: "Expect", value: "")
        let reply = try send("POST", "/images/load?quiet=1", headers: headers, body: .stream(contentLength: nil, producer: produce),
                             response: .collect(limit: 16 << 20))
        guard reply.status == 200 else { throw failure(reply, action: "load images") }
        var messages: [String] = []
        for line in reply.body.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            if let detail = object["errorDetail"] as? [String: Any] {
                throw DockerError("the daemon at \(endpoint.description) failed to load the images: \(detail["message"] as? String ?? object["error"] as? String ?? "unknown error")")
            }
            if let stream = object["stream"] as? String { messages.append(stream.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return messages
    }

    // MARK: - Transport

    func send(_ method: String, _ path: String, headers: HTTPHeaders = HTTPHeaders(),
                      body: RequestBody = .none, response: ResponseBody = .collect(limit: 64 << 20)) throws -> HTTPResponse {
        try transport.send(method, "/v\(apiVersion)" + path, headers: headers, body: body, response: response)
    }

    /// A versioned request whose connection is taken over once the daemon switches protocols.
    func hijack(_ method: String, _ path: String, headers: HTTPHeaders, body: [UInt8]) throws -> HijackedConnection {
        try transport.hijack(method, "/v\(apiVersion)" + path, headers: headers, body: body)
    }

    func failure(_ reply: HTTPResponse, action: String) -> DockerError {
        Transport.failure(reply, action: action)
    }

    func decode<T: Decodable>(_ type: T.Type, _ reply: HTTPResponse, action: String, status: Int = 200) throws -> T {
        guard reply.status == status else { throw failure(reply, action: action) }
        do { return try JSONDecoder().decode(type, from: Data(reply.body)) } catch {
            throw DockerError("the Docker daemon's answer to '\(action)' is not what the Engine API describes: \(error)")
        }
    }

    /// Orders "1.41" < "1.43" numerically.
    static func compare(_ a: String, _ b: String) -> Int {
        let left = a.split(separator: ".").map { Int($0) ?? 0 }, right = b.split(separator: ".").map { Int($0) ?? 0 }
        for (x, y) in zip(left, right) where x != y { return x < y ? -1 : 1 }
        return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
    }

    static func escapePath(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:@/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func escapeQuery(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// One request to the daemon's address (socket or tcp, with its TLS files), errors worded for users.
struct Transport: Sendable {
    let endpoint: DockerEndpoint
    let http: HTTPClient

    func send(_ method: String, _ path: String, headers: HTTPHeaders = HTTPHeaders(),
              body: RequestBody = .none, response: ResponseBody = .collect(limit: 64 << 20)) throws -> HTTPResponse {
        let request = self.request(method, path, headers: headers, body: body)
        return try translatingErrors { () throws(HTTPError) in try http.send(request, response: response, tls: tls, unixSocket: unixSocket) }
    }

    func hijack(_ method: String, _ path: String, headers: HTTPHeaders, body: [UInt8]) throws -> HijackedConnection {
        let request = self.request(method, path, headers: headers, body: .bytes(body))
        return try translatingErrors { () throws(HTTPError) in try http.hijack(request, tls: tls, unixSocket: unixSocket) }
    }

    /// HTTP failures in the daemon's words; what a body closure threw comes back as itself.
    func translatingErrors<T>(_ work: () throws(HTTPError) -> T) throws -> T {
        do {
            return try work()
        } catch {
            if let underlying = error.underlying { throw underlying }
            throw connectionError(error)
        }
    }

    private func request(_ method: String, _ path: String, headers: HTTPHeaders, body: RequestBody) -> HTTPRequest {
        var request = HTTPRequest(method: method, url: baseURL + path, headers: headers, body: body)
        if case .unixSocket = endpoint.address { request.headers.add(name: "Host", value: "docker") }
        return request
    }

    private var baseURL: String {
        switch endpoint.address {
        case .unixSocket: "http://docker"
        case .tcp(let host, let tls): "\(tls == nil ? "http" : "https")://\(host)"
        }
    }

    private var unixSocket: String? {
        if case .unixSocket(let path) = endpoint.address { return path }
        return nil
    }

    private var tls: TLSOptions? {
        guard case .tcp(_, let dockerTLS?) = endpoint.address else { return nil }
        var options = TLSOptions()
        options.caFile = dockerTLS.caFile
        options.clientCertificate = dockerTLS.certificateFile
        options.clientKey = dockerTLS.keyFile
        options.verify = dockerTLS.verify
        return options
    }

    private func connectionError(_ error: HTTPError) -> DockerError {
        switch error.kind {
        case .couldNotConnect:
            return DockerError("no Docker daemon answers at \(endpoint.description): \(error.message)",
                               hint: "start the daemon (for minikube: `minikube start`), or point DOCKER_HOST, --host or --context at a running one",
                               kind: .unreachable)
        case .tls:
            return DockerError("TLS to the Docker daemon at \(endpoint.description) failed: \(error.message)",
                               hint: "check DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) belongs to this daemon")
        default:
            return DockerError("talking to the Docker daemon at \(endpoint.description) failed: \(error)")
        }
    }

    static func failure(_ reply: HTTPResponse, action: String) -> DockerError {
        let message = (try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any])?["message"] as? String
            ?? String(decoding: reply.body.prefix(300), as: UTF8.self)
        return DockerError("the Docker daemon could not \(action) (HTTP \(reply.status)): \(message)")
    }
}
