import Foundation
import Support

/// A username and password, or an identity token. Printing one never shows the secret.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var username: String
    public var secret: String
    /// An identity token (OAuth refresh token) is exchanged at the token endpoint, not sent as Basic.
    public var isIdentityToken: Bool

    public init(username: String, secret: String, isIdentityToken: Bool = false) {
        self.username = username
        self.secret = secret
        self.isIdentityToken = isIdentityToken
    }

    public var basicAuthorization: String {
        "Basic " + Data("\(username):\(secret)".utf8).base64EncodedString()
    }

    public var description: String { "credentials for \(username) (secret hidden)" }
    public var debugDescription: String { description }
}

/// Where credentials come from, in the order docker and podman look: `REGISTRY_AUTH_FILE`
/// (podman's auth.json), then `$DOCKER_CONFIG/config.json` (or ~/.docker/config.json) with its
/// `credHelpers`, `credsStore` and `auths` entries.
public struct CredentialStore: Sendable {
    public var configPath: String
    public var authFile: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let dockerConfig = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(RegistryOptions.home(environment))/.docker"
        configPath = "\(dockerConfig)/config.json"
        authFile = environment["REGISTRY_AUTH_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func credentials(for registry: String) throws -> Credentials? {
        if let authFile, let found = try DockerConfigFile(path: authFile).storedCredentials(for: registry) { return found }
        let config = try DockerConfigFile(path: configPath)
        if let helper = config.helper(for: registry) { return try CredentialHelper(name: helper).get(registry: registry) }
        return try config.storedCredentials(for: registry)
    }

    /// `login`: stores credentials where docker would (the credential store if one is
    /// configured, else base64 in `auths`).
    public func store(_ credentials: Credentials, for registry: String) throws {
        var config = try DockerConfigFile(path: configPath)
        if let helper = config.helper(for: registry) {
            try CredentialHelper(name: helper).store(credentials, registry: registry)
            config.setAuth(nil, for: registry, keepEntry: true)
        } else {
            config.setAuth(credentials, for: registry, keepEntry: true)
        }
        try config.write()
    }

    /// `logout`: returns false if nothing was stored for the registry.
    public func erase(for registry: String) throws -> Bool {
        var config = try DockerConfigFile(path: configPath)
        let had = config.hasEntry(for: registry)
        if let helper = config.helper(for: registry) { try? CredentialHelper(name: helper).erase(registry: registry) }
        config.setAuth(nil, for: registry, keepEntry: false)
        try config.write()
        return had
    }
}

/// docker's config.json (and podman's auth.json), read and written without losing fields we
/// do not know about.
struct DockerConfigFile {
    let path: String
    private var json: [String: Any]

    init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else {
            json = [:]
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw RegistryError.configuration("\(path) is not valid JSON; fix or remove it")
        }
        json = object
    }

    func helper(for registry: String) -> String? {
        if let helpers = json["credHelpers"] as? [String: String], let name = helpers[Self.key(registry)] ?? helpers[registry] { return name }
        return (json["credsStore"] as? String).flatMap { $0.isEmpty ? nil : $0 }
    }

    func storedCredentials(for registry: String) throws -> Credentials? {
        guard let entry = entry(for: registry) else { return nil }
        if let token = entry["identitytoken"] as? String, !token.isEmpty {
            let username = (entry["username"] as? String) ?? "<token>"
            return Credentials(username: username, secret: token, isIdentityToken: true)
        }
        if let auth = entry["auth"] as? String, !auth.isEmpty {
            guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                  let colon = decoded.firstIndex(of: ":") else {
                throw RegistryError.configuration("\(path): the auth entry for \(registry) is not base64 of user:password; run `spark-image-tool login \(registry)` again")
            }
            return Credentials(username: String(decoded[..<colon]), secret: String(decoded[decoded.index(after: colon)...]))
        }
        if let username = entry["username"] as? String, let password = entry["password"] as? String {
            return Credentials(username: username, secret: password)
        }
        return nil
    }

    func hasEntry(for registry: String) -> Bool { entry(for: registry) != nil }

    mutating func setAuth(_ credentials: Credentials?, for registry: String, keepEntry: Bool) {
        var auths = json["auths"] as? [String: Any] ?? [:]
        for key in auths.keys where Self.key(key) == Self.key(registry) { auths[key] = nil }
        if let credentials {
            auths[Self.key(registry)] = ["auth": Data("\(credentials.username):\(credentials.secret)".utf8).base64EncodedString()]
        } else if keepEntry {
            auths[Self.key(registry)] = [String: Any]()
        }
        json["auths"] = auths
    }

    /// Writes atomically with mode 0600 from the first byte, as the file holds secrets.
    func write() throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        do { try AtomicFile.replace(path, with: [UInt8](data), mode: 0o600) } catch { throw RegistryError.configuration(error.message) }
    }

    private func entry(for registry: String) -> [String: Any]? {
        guard let auths = json["auths"] as? [String: Any] else { return nil }
        return auths.first { Self.key($0.key) == Self.key(registry) }?.value as? [String: Any]
    }

    /// The key docker uses: Docker Hub is `https://index.docker.io/v1/`; others are host[:port],
    /// written with or without a scheme and path.
    static func key(_ registry: String) -> String {
        var host = registry
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host.removeFirst(scheme.count) }
        host = String(host.split(separator: "/").first ?? "")
        if host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io" { return "https://index.docker.io/v1/" }
        return host
    }
}

/// `docker-credential-NAME get|store|erase`, the protocol of docker's credential helpers.
struct CredentialHelper {
    let name: String

    func get(registry: String) throws -> Credentials? {
        let output = try run("get", input: Data(DockerConfigFile.key(registry).utf8))
        guard let output else { return nil }
        guard let json = try? JSONSerialization.jsonObject(with: output) as? [String: String],
              let username = json["Username"], let secret = json["Secret"] else {
            throw RegistryError.configuration("docker-credential-\(name) get returned something that is not {\"Username\",\"Secret\"}")
        }
        return Credentials(username: username, secret: secret, isIdentityToken: username == "<token>")
    }

    func store(_ credentials: Credentials, registry: String) throws {
        let body = ["ServerURL": DockerConfigFile.key(registry), "Username": credentials.username, "Secret": credentials.secret]
        _ = try run("store", input: try JSONSerialization.data(withJSONObject: body))
    }

    func erase(registry: String) throws {
        _ = try run("erase", input: Data(DockerConfigFile.key(registry).utf8))
    }

    /// nil when the helper says it has no credentials for the server.
    private func run(_ verb: String, input: Data) throws -> Data? {
        let result: ProcessOutput
        do { result = try Subprocess.run(["docker-credential-\(name)", verb], input: input) } catch {
            throw RegistryError.configuration("cannot run docker-credential-\(name): \(error); install it or remove credsStore/credHelpers from the docker config")
        }
        if result.status == 0 { return result.stdout }
        let message = String(decoding: result.stdout + result.stderr, as: UTF8.self)
        if message.contains("credentials not found") { return nil }
        // The helper's own words, never the input we gave it (which may hold the secret).
        throw RegistryError.configuration("docker-credential-\(name) \(verb) failed (exit \(result.status)): \(message.prefix(200))")
    }
}
