import Foundation
import Testing

/// The real peers that `scripts/services.sh` starts and announces through `SIT_*` variables.
enum Service: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain-HTTP registry, `127.0.0.1:PORT`.
    case registry
    /// Plain-HTTP registry with htpasswd Basic auth, `127.0.0.1:PORT`; its user and password.
    case registryBasic, registryBasicUser, registryBasicPassword
    /// HTTPS registry, `127.0.0.1:PORT`; the PEM CA certificate that signed its certificate.
    case registryTLS, registryTLSCA
    /// Plain-HTTP registry with token auth, `127.0.0.1:PORT`; its token server
    /// (`http://127.0.0.1:PORT`) and the one user that may push.
    case registryToken, tokenServer, tokenUser, tokenPassword
    /// Fault-injecting proxy in front of `registry`, `127.0.0.1:PORT`; its control endpoint.
    case faultProxy, faultControl
    /// Docker daemon endpoint, `unix:///…/docker.sock`.
    case dockerHost
    /// The Docker CLI matching that daemon (`/usr/bin/docker`, 20.10).
    case dockerCLI
    /// A second Docker daemon on `tcp://127.0.0.1:PORT` with `--tlsverify`; the directory with the
    /// client's `ca.pem`, `cert.pem` and `key.pem` (for `DOCKER_CERT_PATH`).
    case dockerTLSHost, dockerCertPath
    /// Two containerd instances on this host, one per node: their socket paths.
    case containerdNode1, containerdNode2
    /// The kind-style cluster on the `dockerHost` daemon: its name (`io.x-k8s.kind.cluster`) and
    /// its node containers' names, space-separated, in the order of the containerd sockets.
    case kindCluster, kindNodes
    /// The services' work dir.
    case work

    var environmentVariable: String {
        switch self {
        case .registry: "SIT_REGISTRY"
        case .registryBasic: "SIT_REGISTRY_BASIC"
        case .registryBasicUser: "SIT_REGISTRY_BASIC_USER"
        case .registryBasicPassword: "SIT_REGISTRY_BASIC_PASSWORD"
        case .registryTLS: "SIT_REGISTRY_TLS"
        case .registryTLSCA: "SIT_REGISTRY_TLS_CA"
        case .registryToken: "SIT_REGISTRY_TOKEN"
        case .tokenServer: "SIT_TOKEN_SERVER"
        case .tokenUser: "SIT_TOKEN_USER"
        case .tokenPassword: "SIT_TOKEN_PASSWORD"
        case .faultProxy: "SIT_FAULT_PROXY"
        case .faultControl: "SIT_FAULT_CONTROL"
        case .dockerHost: "SIT_DOCKER_HOST"
        case .dockerCLI: "SIT_DOCKER_CLI"
        case .dockerTLSHost: "SIT_DOCKER_TLS_HOST"
        case .dockerCertPath: "SIT_DOCKER_CERT_PATH"
        case .containerdNode1: "SIT_CONTAINERD_NODE1_ADDRESS"
        case .containerdNode2: "SIT_CONTAINERD_NODE2_ADDRESS"
        case .kindCluster: "SIT_KIND_CLUSTER"
        case .kindNodes: "SIT_KIND_NODES"
        case .work: "SIT_WORK"
        }
    }

    var description: String { "\(rawValue) (\(environmentVariable))" }
}

/// Thrown when a test needs a service that is not running and `CI=true`: the test fails.
struct ServiceUnavailable: Error, CustomStringConvertible {
    var service: Service
    var description: String {
        "\(service) is not set but CI=true: the test services must run in CI; start them with scripts/test.sh"
    }
}

enum TestServices {
    /// `CI` is `true` (or `1`): missing services fail instead of skipping.
    static func isCI(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let ci = environment["CI"]?.lowercased() else { return false }
        return ci == "true" || ci == "1" || ci == "yes"
    }

    /// The value announced for `service`, or `nil` when it is unset or empty.
    static func value(
        _ service: Service, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        guard let v = environment[service.environmentVariable], !v.isEmpty else { return nil }
        return v
    }

    /// The address of `service`. When it is missing: throws in CI (the test fails), and otherwise
    /// cancels the running test, which the test run reports as skipped (with `announce: false`,
    /// returns `nil` instead, for tests of this function):
    ///
    ///     guard let registry = try TestServices.require(.registry) else { return }
    static func require(
        _ service: Service,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        announce: Bool = true,
        file: String = #fileID, line: Int = #line
    ) throws -> String? {
        if let v = value(service, environment: environment) { return v }
        if isCI(environment) { throw ServiceUnavailable(service: service) }
        guard announce else { return nil }
        // Reported as skipped (cancelled), never as passed.
        try Test.cancel("SKIPPED: \(service) not running; run scripts/test.sh (\(file):\(line))")
    }

    /// The values of all `services`, or `nil` (skip) as with `require`; in CI the first missing
    /// one throws.
    static func requireAll(
        _ services: [Service],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        file: String = #fileID, line: Int = #line
    ) throws -> [String]? {
        var values: [String] = []
        for service in services {
            guard let v = try require(service, environment: environment, file: file, line: line) else { return nil }
            values.append(v)
        }
        return values
    }

    /// The test Docker daemon and its CLI, or `nil` (skip) as with `require`.
    static func docker(file: String = #fileID, line: Int = #line) throws -> DockerDaemon? {
        guard let v = try requireAll([.dockerHost, .dockerCLI], file: file, line: line) else { return nil }
        return DockerDaemon(host: v[0], cli: v[1])
    }

    /// The Docker daemon reached over TLS tcp with a client certificate, as minikube's is.
    static func dockerTLS(file: String = #fileID, line: Int = #line) throws -> DockerDaemon? {
        guard let v = try requireAll([.dockerTLSHost, .dockerCLI, .dockerCertPath], file: file, line: line)
        else { return nil }
        return DockerDaemon(host: v[0], cli: v[1], certPath: v[2])
    }

    /// The kind-style cluster: node containers on the test daemon, each reaching its own containerd.
    static func kindCluster(file: String = #fileID, line: Int = #line) throws -> KindCluster? {
        guard let docker = try docker(file: file, line: line),
              let v = try requireAll([.kindCluster, .kindNodes, .containerdNode1, .containerdNode2], file: file, line: line)
        else { return nil }
        let names = v[1].split(separator: " ").map(String.init)
        return KindCluster(docker: docker, name: v[0],
                           nodes: zip(names, [v[2], v[3]]).map { KindCluster.Node(container: $0, containerdAddress: $1) })
    }

    /// The registry with Basic auth, or `nil` (skip).
    static func basicRegistry(file: String = #fileID, line: Int = #line) throws -> AuthenticatedRegistry? {
        guard let v = try requireAll([.registryBasic, .registryBasicUser, .registryBasicPassword], file: file, line: line)
        else { return nil }
        return AuthenticatedRegistry(address: v[0], user: v[1], password: v[2])
    }

    /// The registry with token auth and its token server, or `nil` (skip).
    static func tokenRegistry(file: String = #fileID, line: Int = #line) throws -> TokenRegistry? {
        guard let v = try requireAll([.registryToken, .tokenServer, .tokenUser, .tokenPassword], file: file, line: line)
        else { return nil }
        return TokenRegistry(
            registry: AuthenticatedRegistry(address: v[0], user: v[2], password: v[3]),
            server: TokenServer(url: v[1]))
    }

    /// The HTTPS registry, or `nil` (skip).
    static func tlsRegistry(file: String = #fileID, line: Int = #line) throws -> TLSRegistry? {
        guard let v = try requireAll([.registryTLS, .registryTLSCA], file: file, line: line) else { return nil }
        return TLSRegistry(address: v[0], caPath: v[1])
    }

    /// The fault proxy (the address clients use) and its control endpoint, or `nil` (skip).
    static func faultProxy(file: String = #fileID, line: Int = #line) throws -> FaultProxy? {
        guard let v = try requireAll([.faultProxy, .faultControl], file: file, line: line) else { return nil }
        return FaultProxy(address: v[0], control: v[1])
    }
}

/// The test daemon with the CLI pointed at it (never at the machine's default daemon).
struct DockerDaemon: Sendable {
    var host: String
    var cli: String
    /// For a daemon with `--tlsverify`: the directory with `ca.pem`, `cert.pem`, `key.pem`.
    var certPath: String? = nil

    /// Environment for programs that find the daemon through `DOCKER_HOST` (and, with TLS,
    /// `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`).
    var environment: [String: String] {
        guard let certPath else { return ["DOCKER_HOST": host] }
        return ["DOCKER_HOST": host, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certPath]
    }

    /// `-H HOST`, plus the TLS flags when the daemon needs them.
    var connectionArguments: [String] {
        guard let certPath else { return ["-H", host] }
        return ["--tlsverify", "--tlscacert", "\(certPath)/ca.pem", "--tlscert", "\(certPath)/cert.pem",
                "--tlskey", "\(certPath)/key.pem", "-H", host]
    }

    /// Runs `docker -H HOST ARGS…`.
    func run(_ arguments: [String], stdin: Data? = nil, timeout: Duration = .seconds(300)) throws -> CommandResult {
        try Command.run(cli, connectionArguments + arguments, environment: environment, stdin: stdin, timeout: timeout)
    }
}

/// kind's shape: labelled node containers, each with `ctr` reaching its containerd at
/// /run/containerd, which this host also reaches at `containerdAddress`.
struct KindCluster: Sendable {
    struct Node: Sendable {
        var container: String
        var containerdAddress: String

        /// `ctr --address SOCKET ARGS…` on this host: a look at the node's containerd from outside.
        func hostCtr(_ arguments: [String]) throws -> CommandResult {
            try Command.run("ctr", ["--address", containerdAddress] + arguments)
        }
    }

    var docker: DockerDaemon
    var name: String
    var nodes: [Node]
}
