import Foundation
import HTTP

/// How to reach registries: trust, insecurity opt-ins, retries, parallelism and credentials.
public struct RegistryOptions: Sendable {
    /// host[:port] allowed over plain HTTP or unverified TLS (`--insecure-registry`).
    public var insecureRegistries: Set<String>
    /// An extra CA bundle for every registry (`--ca-file`).
    public var caFile: String?
    /// Where per-registry `ca.crt`, `client.cert` and `client.key` live, in `<dir>/<host:port>/`.
    public var certificateDirectories: [String]
    public var retry: RetryPolicy
    /// nil: monolithic uploads; otherwise PATCH chunks of this size.
    public var chunkSize: Int?
    /// Blobs in flight at once.
    public var jobs: Int
    public var credentials: CredentialStore
    /// Mirrors tried before Docker Hub for docker.io images (host[:port] or URL).
    public var registryMirrors: [String]
    /// Request lines for --verbose; Authorization never appears in them.
    public var log: (@Sendable (String) -> Void)?

    public init(insecureRegistries: Set<String> = [], caFile: String? = nil,
                certificateDirectories: [String] = RegistryOptions.defaultCertificateDirectories(),
                retry: RetryPolicy = RetryPolicy(), chunkSize: Int? = nil, jobs: Int = 4,
                credentials: CredentialStore = CredentialStore(), registryMirrors: [String] = [],
                log: (@Sendable (String) -> Void)? = nil) {
        self.insecureRegistries = insecureRegistries
        self.caFile = caFile
        self.certificateDirectories = certificateDirectories
        self.retry = retry
        self.chunkSize = chunkSize
        self.jobs = jobs
        self.credentials = credentials
        self.registryMirrors = registryMirrors
        self.log = log
    }

    public static func defaultCertificateDirectories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let home = home(environment)
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.config"
        return ["/etc/docker/certs.d", "\(home)/.docker/certs.d", "\(config)/containers/certs.d"]
    }

    /// $HOME first, as docker and podman do; Foundation's home directory ignores it.
    static func home(_ environment: [String: String]) -> String {
        environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }

    /// Docker's rule: localhost and 127.0.0.0/8 may use plain HTTP without being listed.
    func allowsPlainHTTP(_ registry: String) -> Bool {
        insecureRegistries.contains(registry) || insecureRegistries.contains(Self.host(of: registry)) || Self.isLoopback(registry)
    }

    func skipsVerification(_ registry: String) -> Bool {
        insecureRegistries.contains(registry) || insecureRegistries.contains(Self.host(of: registry))
    }

    /// TLS settings for one registry: its certs.d directory first, then --ca-file.
    func tls(for registry: String) -> TLSOptions {
        var options = TLSOptions()
        options.verify = !skipsVerification(registry)
        options.caFile = caFile
        for directory in certificateDirectories {
            let dir = "\(directory)/\(registry)"
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            if let ca = names.sorted().first(where: { $0.hasSuffix(".crt") }) { options.caFile = "\(dir)/\(ca)" }
            if let cert = names.sorted().first(where: { $0.hasSuffix(".cert") }) {
                options.clientCertificate = "\(dir)/\(cert)"
                options.clientKey = "\(dir)/\(cert.dropLast(5)).key"
            }
            break
        }
        return options
    }

    /// Credentials may go to a token realm over HTTPS, or over plain HTTP only to the registry's
    /// own host or a host named with `--insecure-registry`: never in clear text to a stranger.
    func mayReceiveCredentials(realm: String, registryURL: String) -> Bool {
        guard let target = Origin(realm) else { return false }
        if target.scheme == "https" { return true }
        if target.host == Origin(registryURL)?.host { return true }
        guard let authority = Origin.authority(of: realm) else { return false }
        return insecureRegistries.contains(authority) || insecureRegistries.contains(Self.host(of: authority))
    }

    static func host(of registry: String) -> String {
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") { return String(registry[...close]) }
        return String(registry.split(separator: ":").first ?? "")
    }

    /// `localhost`, `[::1]` and literal 127.0.0.0/8 addresses; `127.evil.example` is a name.
    static func isLoopback(_ registry: String) -> Bool {
        let host = host(of: registry).lowercased()
        if host == "localhost" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { ("0"..."9").contains($0) } && UInt8($0) != nil }
    }
}
