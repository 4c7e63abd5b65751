import Foundation

/// The real peers that `scripts/services.sh` starts and announces through `SIT_*` variables.
enum Service: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain-HTTP registry, `127.0.0.1:PORT`.
    case registry
    /// Docker daemon endpoint, `unix:///…/docker.sock`.
    case dockerHost
    /// The Docker CLI matching that daemon (`/usr/bin/docker`, 20.10).
    case dockerCLI
    /// The services' work dir.
    case work

    var environmentVariable: String {
        switch self {
        case .registry: "SIT_REGISTRY"
        case .dockerHost: "SIT_DOCKER_HOST"
        case .dockerCLI: "SIT_DOCKER_CLI"
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
    /// prints a loud `SKIPPED:` line to stderr and returns `nil` so the test can return early:
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
        let message = "SKIPPED: \(service) not running; run scripts/test.sh (\(file):\(line))\n"
        FileHandle.standardError.write(Data(message.utf8))
        return nil
    }

    /// The test Docker daemon and its CLI, or `nil` (skip) as with `require`.
    static func docker(file: String = #fileID, line: Int = #line) throws -> DockerDaemon? {
        guard let host = try require(.dockerHost, file: file, line: line),
              let cli = try require(.dockerCLI, file: file, line: line)
        else { return nil }
        return DockerDaemon(host: host, cli: cli)
    }
}

/// The test daemon with the CLI pointed at it (never at the machine's default daemon).
struct DockerDaemon: Sendable {
    var host: String
    var cli: String

    /// Environment for programs that find the daemon through `DOCKER_HOST`.
    var environment: [String: String] { ["DOCKER_HOST": host] }

    /// Runs `docker -H HOST ARGS…`.
    func run(_ arguments: [String], stdin: Data? = nil, timeout: Duration = .seconds(300)) throws -> CommandResult {
        try Command.run(cli, ["-H", host] + arguments, environment: environment, stdin: stdin, timeout: timeout)
    }
}
