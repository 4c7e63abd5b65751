import DockerEngine
import Foundation
import Testing

/// Exec over TLS tcp, the way minikube's daemon is reached: the end of stdin is TLS close_notify
/// (what the Docker CLI sends), not a TCP half-close.
@Suite(.timeLimit(.minutes(2)))
struct ExecOverTLSTests {
    @Test("stdin over TLS arrives whole and ends, and the output comes back")
    func stdinOverTLS() throws {
        guard let docker = try TestServices.dockerTLS(), let certPath = docker.certPath else { return }
        try TemporaryDirectory.with(prefix: "sit-exec-tls") { dir in
            let rootfs = dir.appending(path: "rootfs.tar")
            try TinyBase.makeRootfs(at: rootfs, compressed: false)
            let image = "sit-exec-tls/tiny:\(UUID().uuidString.prefix(8).lowercased())"
            try docker.run(["import", "--change", #"CMD ["/bin/sleep", "600"]"#, rootfs.path, image]).check()
            let container = try docker.run(["run", "-d", "--network", "none", image]).check().output
            defer { _ = try? docker.run(["rm", "-f", container]) }

            let tls = try DockerTLS(certPath: certPath, verify: true, source: "SIT_DOCKER_CERT_PATH")
            let client = try EngineClient(connectingTo: try DockerEndpoint(host: docker.host, tls: tls, source: "SIT_DOCKER_TLS_HOST"),
                                          idleTimeout: .seconds(20))
            let data = [UInt8](repeating: 0x5a, count: 3_000_017)
            let result = try client.exec(in: container, command: ["sh", "-c", "cat | wc -c; echo done >&2"]) { write in
                try data.withUnsafeBytes { try write($0) }
            }
            #expect(result.exitCode == 0, "\(result.standardError)")
            #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "\(data.count)")
            #expect(result.standardError == "done\n")
            #expect(result.bytesSent == Int64(data.count) && result.inputComplete)
        }
    }
}
