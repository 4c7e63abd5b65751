import Foundation
import Support

/// Where a Docker daemon listens and how to reach it, with the reason it was chosen.
public struct DockerEndpoint: Sendable, Equatable {
    public enum Address: Sendable, Equatable {
        case unixSocket(String)
        /// `host:port`, with TLS material when the daemon requires it.
        case tcp(String, tls: DockerTLS?)
    }

    public var address: Address
    /// Why this endpoint (for --verbose): "DOCKER_HOST", "context desktop-linux", "minikube profile p"…
    public var source: String

    public init(address: Address, source: String) {
        self.address = address
        self.source = source
    }

    /// Parses `unix:///path`, `tcp://host:port` (with TLS when `tls` is given) or a bare path.
    public init(host: String, tls: DockerTLS?, source: String) throws(DockerError) {
        if host.hasPrefix("unix://") {
            address = .unixSocket(String(host.dropFirst("unix://".count)))
        } else if host.hasPrefix("tcp://") || host.hasPrefix("https://") || host.hasPrefix("http://") {
            let rest = host.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
            guard !rest.isEmpty else { throw DockerError("\(source): '\(host)' names no host") }
            address = .tcp(rest.contains(":") ? rest : "\(rest):\(tls == nil ? 2375 : 2376)", tls: tls)
        } else if host.hasPrefix("/") {
            address = .unixSocket(host)
        } else {
            throw DockerError("\(source): '\(host)' is not a Docker host", hint: "use unix:///path/to/docker.sock or tcp://HOST:PORT")
        }
        self.source = source
    }

    public var description: String {
        switch address {
        case .unixSocket(let path): "unix://\(path) (\(source))"
        case .tcp(let host, let tls): "tcp://\(host)\(tls == nil ? "" : " with TLS") (\(source))"
        }
    }
}

/// The client side of `--tlsverify`: CA, client certificate and key, as in DOCKER_CERT_PATH.
public struct DockerTLS: Sendable, Equatable {
    public var caFile: String
    public var certificateFile: String
    public var keyFile: String
    public var verify: Bool

    /// ca.pem, cert.pem and key.pem in `directory`, each of which must exist.
    public init(certPath directory: String, verify: Bool, source: String) throws(DockerError) {
        caFile = "\(directory)/ca.pem"
        certificateFile = "\(directory)/cert.pem"
        keyFile = "\(directory)/key.pem"
        self.verify = verify
        for file in [caFile, certificateFile, keyFile] where !FileManager.default.fileExists(atPath: file) {
            throw DockerError("\(source): the TLS file \(file) is missing",
                              hint: "DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem (for minikube: `minikube docker-env` shows the path)")
        }
    }
}

public enum DockerFailure {}

/// A failure to find or talk to a Docker daemon.
public typealias DockerError = ModuleError<DockerFailure>
