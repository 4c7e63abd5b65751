import Foundation
import Support

/// Reads `minikube -p PROFILE docker-env --shell bash` without running its output in a shell:
/// only the `export NAME="VALUE"` lines are taken.
struct MinikubeEnvironment {
    let profile: String
    let environment: [String: String]

    func endpoint() throws(DockerError) -> DockerEndpoint {
        let output = try run()
        let variables = Self.parse(output)
        if let runtime = variables["MINIKUBE_CONTAINER_RUNTIME"] ?? Self.runtimeHint(in: output), runtime != "docker" {
            throw Self.notDocker(runtime)
        }
        guard let host = variables["DOCKER_HOST"] else {
            throw DockerError("`minikube -p \(profile) docker-env` printed no DOCKER_HOST", hint: "is the profile running with the docker runtime? (`minikube -p \(profile) status`)")
        }
        let source = "minikube profile \(profile)"
        var tls: DockerTLS?
        if let path = variables["DOCKER_CERT_PATH"] {
            tls = try DockerTLS(certPath: path, verify: !(variables["DOCKER_TLS_VERIFY"] ?? "").isEmpty && variables["DOCKER_TLS_VERIFY"] != "0", source: source)
        }
        return try DockerEndpoint(host: host, tls: tls, source: source)
    }

    /// `export KEY="VALUE"` lines; anything else (comments, `# To point your shell…`) is ignored.
    static func parse(_ output: String) -> [String: String] {
        var variables: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("export "), let equals = trimmed.firstIndex(of: "=") else { continue }
            let name = trimmed[trimmed.index(trimmed.startIndex, offsetBy: 7)..<equals].trimmingCharacters(in: .whitespaces)
            var value = String(trimmed[trimmed.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            variables[name] = value
        }
        return variables
    }

    private static func runtimeHint(in output: String) -> String? {
        output.contains("containerd") && !output.contains("DOCKER_HOST") ? "containerd" : nil
    }

    private static func notDocker(_ runtime: String) -> DockerError {
        DockerError("minikube runs the \(runtime) runtime, which has no Docker daemon to load into",
                    hint: "use `minikube image load IMAGE`, or start minikube with --container-runtime=docker")
    }

    private func run() throws(DockerError) -> String {
        let result: ProcessOutput
        do { result = try Subprocess.run(["minikube", "-p", profile, "docker-env", "--shell", "bash"], environment: environment) } catch {
            throw DockerError("cannot run minikube: \(error)", hint: "install minikube or put it on PATH")
        }
        if result.status == 127 {
            throw DockerError("minikube is not on PATH", hint: "install minikube, or name the daemon with --host")
        }
        let errors = result.stderrText
        guard result.status == 0 else {
            if errors.contains("containerd") || errors.contains("container runtime") { throw Self.notDocker("containerd") }
            throw DockerError("`minikube -p \(profile) docker-env` failed (exit \(result.status)): \(errors.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300))",
                              hint: "is minikube running? (`minikube -p \(profile) start`)")
        }
        return result.stdoutText
    }
}
