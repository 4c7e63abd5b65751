import Foundation
import Testing

/// Proves each extra peer of scripts/services.sh behaves as the tool's push and load tests will
/// assume, using skopeo and docker (clients nobody here wrote): auth is enforced, TLS is verified,
/// the token server's tokens are accepted and limited, and the fault proxy injects and counts.
@Suite("Service smoke tests")
struct ServiceSmokeTests {
    /// A tiny OCI layout in a fresh directory, and a repository name nobody else uses.
    struct Fixture {
        let dir: TemporaryDirectory
        let source: String
        let repo: String

        init(_ label: String) throws {
            dir = try TemporaryDirectory(prefix: "sit-svc-smoke")
            let layout = dir.path("layout")
            try TinyBase.makeOCIImage(layout: layout, tag: "1", user: "185")
            source = "oci:\(layout.path):1"
            repo = "sit-smoke/\(label)-\(UUID().uuidString.prefix(8).lowercased())"
        }

        /// `docker://ADDRESS/REPO[SUFFIX]:1`
        func reference(_ address: String, suffix: String = "") -> String { "docker://\(address)/\(repo)\(suffix):1" }

        /// `skopeo copy [--dest-creds CREDS] OPTIONS… SOURCE DESTINATION` (plain HTTP unless
        /// OPTIONS say otherwise).
        func copy(to destination: String, creds: String? = nil, options: [String] = ["--dest-tls-verify=false"]) throws -> CommandResult {
            try ServiceSmokeTests.skopeo(["copy"] + (creds.map { ["--dest-creds", $0] } ?? []) + options + [source, destination])
        }

        /// A push to `destination` fails anonymously (saying one of `refusals`) and with a wrong
        /// password, and succeeds with `registry`'s credentials.
        func expectPushNeedsCredentials(to destination: String, _ registry: AuthenticatedRegistry, refusals: [String]) throws {
            let anonymous = try copy(to: destination)
            #expect(!anonymous.succeeded, "\(anonymous)")
            #expect(refusals.contains { anonymous.stderr.contains($0) }, "\(anonymous)")
            let wrong = try copy(to: destination, creds: "\(registry.user):wrong")
            #expect(!wrong.succeeded, "\(wrong)")
            let push = try copy(to: destination, creds: registry.credentials)
            try #require(push.succeeded, "\(push)")
        }
    }

    static func skopeo(_ arguments: [String]) throws -> CommandResult {
        // No ambient credentials: an auth file that does not exist means "anonymous".
        try Command.run("skopeo", arguments, environment: ["REGISTRY_AUTH_FILE": "/nonexistent/sit-auth.json"],
                        timeout: .seconds(120))
    }

    @Test("every service is required in CI, skipped locally", arguments: Service.allCases)
    func requireEachInCI(service: Service) throws {
        #expect(throws: ServiceUnavailable.self) {
            try TestServices.require(service, environment: ["CI": "true"], announce: false)
        }
        #expect(try TestServices.require(service, environment: [:], announce: false) == nil)
        #expect(try TestServices.require(service, environment: [service.environmentVariable: "x"], announce: false) == "x")
    }

    @Test("Basic-auth registry: push refused without credentials, accepted with them")
    func basicAuthRegistry() throws {
        guard let registry = try TestServices.basicRegistry() else { return }
        let f = try Fixture("basic")
        defer { f.dir.remove() }
        let ref = f.reference(registry.address)

        try f.expectPushNeedsCredentials(to: ref, registry, refusals: ["unauthorized", "authentication required"])

        let inspect = try Self.skopeo(["inspect", "--tls-verify=false", "--creds", registry.credentials, ref])
        #expect(inspect.succeeded && inspect.stdout.contains(TinyBase.goArch), "\(inspect)")
        let anonymousPull = try Self.skopeo(["inspect", "--tls-verify=false", ref])
        #expect(!anonymousPull.succeeded, "\(anonymousPull)")
    }

    @Test("TLS registry: push verified against the throwaway CA, refused without it")
    func tlsRegistry() throws {
        guard let registry = try TestServices.tlsRegistry() else { return }
        let f = try Fixture("tls")
        defer { f.dir.remove() }
        let ref = f.reference(registry.address)
        let certs = try registry.makeCertDir(f.dir.path("certs"))
        let empty = f.dir.path("no-certs")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)

        let unverified = try f.copy(to: ref, options: ["--dest-cert-dir", empty.path])
        #expect(!unverified.succeeded, "\(unverified)")
        #expect(unverified.stderr.contains("x509") || unverified.stderr.contains("certificate"), "\(unverified)")

        let push = try f.copy(to: ref, options: ["--dest-cert-dir", certs.path])
        try #require(push.succeeded, "\(push)")
        let inspect = try Self.skopeo(["inspect", "--cert-dir", certs.path, ref])
        #expect(inspect.succeeded && inspect.stdout.contains("\"\(registry.address)/\(f.repo)\""), "\(inspect)")

        // The certificate also names localhost.
        let port = registry.address.split(separator: ":").last.map(String.init) ?? ""
        let viaLocalhost = try Command.run("curl", ["--noproxy", "*", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                                    "--cacert", registry.caPath, "https://localhost:\(port)/v2/"])
        #expect(viaLocalhost.output == "200", "\(viaLocalhost)")
    }

    @Test("Token registry: anonymous pull only, the user may push, tokens are ES256 with kid and access claims, expires_in settable")
    func tokenRegistry() throws {
        guard let token = try TestServices.tokenRegistry() else { return }
        let f = try Fixture("token")
        defer { f.dir.remove() }
        let ref = f.reference(token.address)
        let before = try token.server.stats()

        try f.expectPushNeedsCredentials(to: ref, token.registry, refusals: ["denied", "unauthorized"])

        let anonymousPull = try Self.skopeo(["inspect", "--tls-verify=false", ref])
        #expect(anonymousPull.succeeded && anonymousPull.stdout.contains(TinyBase.goArch), "\(anonymousPull)")

        let after = try token.server.stats()
        let delta = { (key: String) in (after[key] ?? 0) - (before[key] ?? 0) }
        #expect(delta("issued user") >= 1, "\(before) -> \(after)")
        #expect(delta("issued anonymous") >= 2, "\(before) -> \(after)")
        #expect(delta("denied") >= 1, "\(before) -> \(after)")

        // The token itself, as a client gets it.
        let scope = "repository:\(f.repo):pull,push"
        let url = "\(token.server.url)/token?service=sit-registry-token&scope=\(scope)"
        let granted = try Self.fetchToken(url, credentials: token.registry.credentials)
        let lifetime = try #require(granted.response["expires_in"] as? Int, "\(granted.response)")
        #expect((granted.claims["exp"] as? Int).map { $0 - (granted.claims["iat"] as? Int ?? 0) } == lifetime, "\(granted.claims)")
        #expect(granted.response["issued_at"] is String, "\(granted.response)")
        #expect(granted.response["access_token"] as? String == granted.response["token"] as? String)
        #expect(granted.header["alg"] as? String == "ES256", "\(granted.header)")
        #expect((granted.header["kid"] as? String)?.split(separator: ":").count == 12, "\(granted.header)")
        #expect(granted.claims["aud"] as? String == "sit-registry-token", "\(granted.claims)")
        #expect(granted.claims["sub"] as? String == token.registry.user, "\(granted.claims)")
        for claim in ["iss", "exp", "nbf", "iat", "jti"] { #expect(granted.claims[claim] != nil, "\(claim): \(granted.claims)") }
        let access = granted.claims["access"] as? [[String: Any]]
        #expect(access?.first?["name"] as? String == f.repo, "\(granted.claims)")
        #expect(access?.first?["actions"] as? [String] == ["pull", "push"], "\(granted.claims)")

        let anonymous = try Self.fetchToken(url, credentials: nil)
        #expect((anonymous.claims["access"] as? [[String: Any]])?.first?["actions"] as? [String] == ["pull"], "\(anonymous.claims)")

        let denied = try Command.run("curl", ["--noproxy", "*", "-sS", "-w", "\n%{http_code}", "-u", "\(token.registry.user):wrong", url])
        #expect(denied.output.hasSuffix("\n401") && denied.stdout.contains("\"UNAUTHORIZED\""), "\(denied)")

        // A registry-accepted bearer token for this repository, straight to the registry.
        let manifest = try Command.run("curl", ["--noproxy", "*", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
            "-H", "Authorization: Bearer \(anonymous.jwt)", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
            "http://\(token.address)/v2/\(f.repo)/manifests/1"])
        #expect(manifest.output == "200", "\(manifest)")

        // expires_in can be changed at run time, for refresh tests.
        try token.server.setExpiresIn(61)
        defer { try? token.server.setExpiresIn(lifetime) }
        let short = try Self.fetchToken("\(token.server.url)/token?service=sit-registry-token", credentials: nil)
        #expect(short.response["expires_in"] as? Int == 61, "\(short.response)")
        #expect((short.claims["exp"] as? Int).map { $0 - (short.claims["iat"] as? Int ?? 0) } == 61, "\(short.claims)")
    }

    struct DecodedToken {
        var jwt: String
        var response: [String: Any]
        var header: [String: Any]
        var claims: [String: Any]
    }

    static func fetchToken(_ url: String, credentials: String?) throws -> DecodedToken {
        var args = ["--noproxy", "*", "-sS", "--fail-with-body", url]
        if let credentials { args += ["-u", credentials] }
        let result = try Command.run("curl", args).check()
        let response = try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any], "\(result)")
        let jwt = try #require(response["token"] as? String, "\(result)")
        let parts = jwt.split(separator: ".").map(String.init)
        try #require(parts.count == 3, "\(jwt)")
        func json(_ part: String) throws -> [String: Any] {
            var b64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            b64 += String(repeating: "=", count: (4 - b64.count % 4) % 4)
            let data = try #require(Data(base64Encoded: b64), "\(part)")
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(part)")
        }
        return DecodedToken(jwt: jwt, response: response, header: try json(parts[0]), claims: try json(parts[1]))
    }

    @Test("Fault proxy: an injected 500 on the first blob PUT fails skopeo's push, a cut PATCH breaks it, stats count")
    func faultProxy() throws {
        // The proxy's rules are global: a push test planning 500s at the same time would hit this copy.
        try FaultProxy.exclusive { proxy in try checkFaults(proxy) }
    }

    private func checkFaults(_ proxy: FaultProxy) throws {
        let f = try Fixture("fault")
        defer { f.dir.remove() }
        let ref = f.reference(proxy.address)
        let mine = "/v2/\(f.repo)/"
        try proxy.plan([.status(500, method: "PUT", path: "\(mine)blobs/uploads/", times: 1)])
        let first = try f.copy(to: ref)
        var stats = try proxy.stats(matching: mine)
        #expect(stats["fault status"] == 1, "\(stats)")
        #expect(stats["status 500"] == 1, "\(stats)")
        if first.succeeded {
            // A client that retries: the failed PUT was sent again.
            #expect((stats["PUT /v2/*/blobs/uploads/*"] ?? 0) >= 2, "\(stats)")
        } else {
            // skopeo 1.9 does not retry a 500 on the final PUT of an upload.
            #expect(first.stderr.contains("500"), "\(first)")
            #expect(stats["PUT /v2/*/blobs/uploads/*"] == 1, "\(stats)")
            #expect(stats["PUT /v2/*/manifests/*"] == nil, "\(stats)")
        }

        // The rule is spent: the same copy now goes through the proxy to the registry.
        let second = try f.copy(to: ref)
        try #require(second.succeeded, "\(second)")
        stats = try proxy.stats(matching: mine)
        #expect(stats["fault status"] == 1, "\(stats)")
        #expect(stats["PUT /v2/*/manifests/*"] == 1, "\(stats)")
        #expect((stats["HEAD /v2/*/blobs/*"] ?? 0) >= 2, "\(stats)")
        let direct = try Self.skopeo(["inspect", "--raw", "--tls-verify=false", "docker://\(try #require(TestServices.value(.registry)))/\(f.repo):1"])
        #expect(direct.succeeded, "the registry behind the proxy has the image: \(direct)")

        // A cut upload: the client sees the connection close, the registry a broken body.
        let cutRepo = "\(f.repo)-cut"
        try proxy.plan([.cut(method: "PATCH", path: "/v2/\(cutRepo)/blobs/uploads/", afterBytes: 10, times: 1)])
        let cut = try f.copy(to: f.reference(proxy.address, suffix: "-cut"))
        #expect(!cut.succeeded, "\(cut)")
        #expect(cut.stderr.contains("EOF") || cut.stderr.contains("connection reset"), "\(cut)")
        #expect(try proxy.stats(matching: "/v2/\(cutRepo)/")["fault cut"] == 1)
    }

    @Test("Docker daemon over TLS tcp: reachable with the client certificate only, and loads an image")
    func dockerTLS() throws {
        guard let docker = try TestServices.dockerTLS() else { return }
        let version = try docker.run(["version", "--format", "{{.Server.Version}}"])
        #expect(version.succeeded && version.output.hasPrefix("20.10"), "\(version)")

        // The way the tool will find it: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH.
        let viaEnvironment = try Command.run(docker.cli, ["info", "--format", "{{.Driver}}"], environment: docker.environment)
        #expect(viaEnvironment.output == "vfs", "\(viaEnvironment)")

        let noClientCert = try Command.run(docker.cli, ["--tlsverify", "--tlscacert", "\(docker.certPath!)/ca.pem",
                                                        "-H", docker.host, "version"], timeout: .seconds(30))
        #expect(!noClientCert.succeeded, "\(noClientCert)")
        let plain = try Command.run(docker.cli, ["-H", docker.host, "version"], timeout: .seconds(30))
        #expect(!plain.succeeded, "\(plain)")

        let f = try Fixture("dockerd-tls")
        defer { f.dir.remove() }
        let name = "\(f.repo):1"
        let archive = f.dir.path("image.tar")
        try Command.run("skopeo", ["copy", f.source, "docker-archive:\(archive.path):\(name)"]).check()
        let load = try docker.run(["load", "-i", archive.path])
        #expect(load.succeeded && load.stdout.contains("Loaded image: \(name)"), "\(load)")
        defer { _ = try? docker.run(["rmi", "-f", name]) }
        let inspect = try docker.run(["image", "inspect", "--format", "{{.Config.User}}", name])
        #expect(inspect.output == "185", "\(inspect)")
    }
}
