import Support
import Foundation

/// Finds the daemon to talk to, in the docker CLI's order: an explicit host, DOCKER_HOST (with
/// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), a context (--context, DOCKER_CONTEXT, then the
/// config's currentContext), and finally the default socket. minikube and Docker Desktop are
/// asked for by name.
public struct EndpointDiscovery: Sendable {
    public enum Request: Sendable, Equatable {
        case automatic(host: String?, context: String?)
        case minikube(profile: String)
        case dockerDesktop
    }

    public var environment: [String: String]
    public var home: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        // $HOME first, as the docker CLI does; Foundation's home directory ignores it.
        home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }

    var dockerConfigDirectory: String {
        environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.docker"
    }

    public func endpoint(for request: Request) throws(DockerError) -> DockerEndpoint {
        switch request {
        case .automatic(let host, let context):
            if let host { return try DockerEndpoint(host: host, tls: try tlsFromEnvironment(source: "--host"), source: "--host") }
            if let host = environment["DOCKER_HOST"], !host.isEmpty {
                return try DockerEndpoint(host: host, tls: try tlsFromEnvironment(source: "DOCKER_HOST"), source: "DOCKER_HOST")
            }
            if let name = context ?? environment["DOCKER_CONTEXT"].flatMap({ $0.isEmpty ? nil : $0 }) ?? currentContext(), name != "default" {
                return try self.context(named: name)
            }
            return DockerEndpoint(address: .unixSocket("/var/run/docker.sock"), source: "default socket")
        case .minikube(let profile):
            return try MinikubeEnvironment(profile: profile, environment: environment).endpoint()
        case .dockerDesktop:
            return try dockerDesktop()
        }
    }

    private func tlsFromEnvironment(source: String) throws(DockerError) -> DockerTLS? {
        let verify = !(environment["DOCKER_TLS_VERIFY"] ?? "").isEmpty
        guard verify || environment["DOCKER_CERT_PATH"] != nil else { return nil }
        let path = environment["DOCKER_CERT_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? dockerConfigDirectory
        // A CA given in DOCKER_CERT_PATH is there to be checked: the daemon's certificate is
        // verified whether or not DOCKER_TLS_VERIFY is set; nothing in the environment turns it off.
        return try DockerTLS(certPath: path, verify: true, source: source)
    }

    private func currentContext() -> String? {
        guard let data = FileManager.default.contents(atPath: "\(dockerConfigDirectory)/config.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return (json["currentContext"] as? String).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A context's endpoint from `contexts/meta/<sha256(name)>/meta.json`, with its TLS files
    /// from `contexts/tls/<sha256(name)>/docker/` when it has them.
    func context(named name: String) throws(DockerError) -> DockerEndpoint {
        let id = SHA256Hex.of(name)
        let meta = "\(dockerConfigDirectory)/contexts/meta/\(id)/meta.json"
        guard let data = FileManager.default.contents(atPath: meta),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let endpoints = json["Endpoints"] as? [String: Any], let docker = endpoints["docker"] as? [String: Any],
              let host = docker["Host"] as? String else {
            throw DockerError("docker context '\(name)' not found (looked for \(meta))", hint: "`docker context ls` lists the contexts")
        }
        let tlsDirectory = "\(dockerConfigDirectory)/contexts/tls/\(id)/docker"
        let tls: DockerTLS? = FileManager.default.fileExists(atPath: "\(tlsDirectory)/ca.pem")
            ? try DockerTLS(certPath: tlsDirectory, verify: !(docker["SkipTLSVerify"] as? Bool ?? false), source: "context \(name)")
            : nil
        return try DockerEndpoint(host: host, tls: tls, source: "context \(name)")
    }

    /// Docker Desktop: its `desktop-linux` context, else its sockets on Linux and macOS.
    private func dockerDesktop() throws(DockerError) -> DockerEndpoint {
        if let endpoint = try? context(named: "desktop-linux") { return endpoint }
        for socket in ["\(home)/.docker/desktop/docker.sock", "\(home)/.docker/run/docker.sock"]
        where FileManager.default.fileExists(atPath: socket) {
            return DockerEndpoint(address: .unixSocket(socket), source: "Docker Desktop socket")
        }
        throw DockerError("Docker Desktop not found: no desktop-linux context, no ~/.docker/desktop/docker.sock or ~/.docker/run/docker.sock",
                          hint: "start Docker Desktop, or name the daemon with --host or --context")
    }
}
