import Foundation
import Testing

/// Authentication, TLS and bad input against the real registries.
@Suite(.serialized)
struct RegistryAuthTests {
    /// Builds the fixture image under `repo` and returns the tool with a private docker config.
    static func withImage(repo: String, _ body: (Built, [String: String]) throws -> Void) throws {
        try Built.with { built in
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "a", "--base", "rootfs:\(built.base.path)"]).check()
            let config = built.dir.appending(path: "docker-config")
            try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
            try body(built, ["DOCKER_CONFIG": config.path])
        }
    }

    @Test func basicAuthLoginAndWrongPassword() throws {
        guard let registry = try TestServices.basicRegistry() else { return }
        let repo = RegistryPushTests.uniqueRepository(registry.address)
        try Self.withImage(repo: repo) { built, env in
            let anonymous = try built.tool.run(["push", "\(repo)/spark:a"], environment: env)
            #expect(anonymous.status == 1)
            #expect(anonymous.stderr.contains("401"), "\(anonymous)")
            #expect(anonymous.stderr.contains("login"), "the hint says how to log in: \(anonymous)")

            let wrong = try Binary.run(["login", registry.address, "-u", registry.user, "--password-stdin"], environment: env,
                                       stdin: Data("not-the-password".utf8))
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("HTTP 401"), "\(wrong)")
            let stored = (try? String(contentsOfFile: env["DOCKER_CONFIG"]! + "/config.json", encoding: .utf8)) ?? ""
            #expect(!stored.contains(registry.address), "a failed login stores nothing")

            let login = try Binary.run(["login", registry.address, "-u", registry.user, "--password-stdin"], environment: env,
                                       stdin: Data(registry.password.utf8)).check()
            #expect(login.output == "Login Succeeded")
            try built.tool.run(["push", "\(repo)/spark:a"], environment: env).check()
            try Command.run("skopeo", ["inspect", "--tls-verify=false", "--creds", registry.credentials, "docker://\(repo)/spark:a"]).check()
            #expect(try Binary.run(["logout", registry.address], environment: env).check().output == "Removing login credentials for \(registry.address)")
        }
    }

    @Test func tokenAuthNeverShowsTheSecret() throws {
        guard let registry = try TestServices.tokenRegistry() else { return }
        let repo = RegistryPushTests.uniqueRepository(registry.address)
        try Self.withImage(repo: repo) { built, env in
            let anonymous = try built.tool.run(["push", "\(repo)/spark:a"], environment: env)
            #expect(anonymous.status == 1, "anonymous users may only pull: \(anonymous)")

            // The real password, stored where docker keeps it; it must never be printed.
            let auth = Data("\(registry.registry.user):\(registry.registry.password)".utf8).base64EncodedString()
            try Data(#"{"auths":{"\#(registry.address)":{"auth":"\#(auth)"}}}"#.utf8)
                .write(to: URL(fileURLWithPath: env["DOCKER_CONFIG"]! + "/config.json"))
            try registry.server.reset()
            let push = try built.tool.run(["push", "\(repo)/spark:a", "--tag", "b", "--verbose"], environment: env).check()
            let printed = push.stdout + push.stderr
            #expect(!printed.contains(registry.registry.password), "the password leaked")
            #expect(!printed.contains(auth), "the base64 credentials leaked")
            #expect(!printed.lowercased().contains("bearer ey"), "a token leaked")
            #expect(printed.contains("> PUT"), "--verbose shows the requests: \(push)")
            let stats = try registry.server.stats()
            #expect((stats["tokens"] ?? stats["GET /token"] ?? 0) >= 1, "\(stats)")
            try Command.run("skopeo", ["inspect", "--tls-verify=false", "--creds", registry.registry.credentials, "docker://\(repo)/spark:b"]).check()
        }
    }

    @Test func tlsRegistryNeedsItsCA() throws {
        guard let registry = try TestServices.tlsRegistry() else { return }
        let repo = RegistryPushTests.uniqueRepository(registry.address)
        try Self.withImage(repo: repo) { built, env in
            let untrusted = try built.tool.run(["push", "\(repo)/spark:a"], environment: env)
            #expect(untrusted.status == 1)
            #expect(untrusted.stderr.contains("TLS"), "\(untrusted)")
            #expect(untrusted.stderr.contains("--ca-file"), "\(untrusted)")
            #expect(untrusted.stderr.contains("--insecure-registry \(registry.address)"), "\(untrusted)")

            try built.tool.run(["push", "\(repo)/spark:a", "--ca-file", registry.caPath], environment: env).check()
            // The CA where docker keeps it, per registry: ~/.docker/certs.d/HOST:PORT/ca.crt.
            let home = built.dir.appending(path: "home")
            let certsD = home.appending(path: ".docker/certs.d/\(registry.address)")
            try FileManager.default.createDirectory(at: certsD, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: registry.caPath, toPath: certsD.appending(path: "ca.crt").path)
            try built.tool.run(["push", "\(repo)/spark:a", "--tag", "certs-d"], environment: env.merging(["HOME": home.path]) { $1 }).check()
            try built.tool.run(["push", "\(repo)/spark:a", "--tag", "insecure", "--insecure-registry", registry.address], environment: env).check()
            let certs = try registry.makeCertDir(built.dir.appending(path: "certs"))
            try Command.run("skopeo", ["inspect", "--cert-dir", certs.path, "docker://\(repo)/spark:insecure"]).check()
        }
    }

    @Test(arguments: [
        ("no repository", ["push", "127.0.0.1:5000/"], "a repository name is required"),
        ("illegal tag", ["push", "127.0.0.1:5000/spark/spark:bad!tag"], "invalid image reference"),
        ("unreachable registry", ["pull", "127.0.0.1:9/spark/spark:a"], "is the registry at 127.0.0.1:9 running?"),
    ])
    func badReferences(name: String, arguments: [String], expected: String) throws {
        try TemporaryDirectory.with { dir in
            let result = try Tool(store: dir.appending(path: "store")).run(arguments + ["--retries", "0"])
            #expect(result.status == (name == "unreachable registry" ? 3 : 1), "3: unreachable, else a user error: \(result)")
            #expect(result.stderr.contains(expected), "\(result)")
        }
    }

    /// In a network namespace of its own (loopback only), so the lookup never leaves the machine.
    @Test func unknownHostIsNamed() throws {
        try TemporaryDirectory.with { dir in
            let result = try Command.run("unshare", ["-n", "--", try Binary.path(), "pull", "registry.invalid:5000/spark/spark:a",
                                                     "--store", dir.appending(path: "store").path, "--retries", "0"])
            #expect(result.status == 3, "a host that cannot be found is unreachable: \(result)")
            #expect(result.stderr.contains("unknown host registry.invalid"), "\(result)")
            #expect(result.stderr.contains("check the registry name"), "\(result)")
        }
    }

    @Test func rejectedManifestShowsTheRegistrysError() throws {
        try FaultProxy.exclusive { proxy in
        let repo = RegistryPushTests.uniqueRepository(proxy.address)
        try Self.withImage(repo: repo) { built, env in
            // The proxy claims every blob exists, so the registry gets a manifest whose blobs it lacks.
            try proxy.plan([.status(200, method: "HEAD", path: "/blobs/sha256:", times: nil)])
            let result = try built.tool.run(["push", "\(repo)/spark:a", "--retries", "0"], environment: env)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("HTTP 400"), "\(result)")
            #expect(result.stderr.contains("MANIFEST_BLOB_UNKNOWN"), "\(result)")
        }
        }
    }
}
