import Foundation
@testable import Registry
import Testing

struct AuthChallengeTests {
    @Test(arguments: [
        (#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:spark/spark:pull""#,
         AuthChallenge.Scheme.bearer, ["realm": "https://auth.example.com/token", "service": "registry.example.com", "scope": "repository:spark/spark:pull"]),
        (#"Basic realm="Registry Realm""#, .basic, ["realm": "Registry Realm"]),
        (#"bearer realm="https://a/t", service="s", scope="repository:a:pull,push""#, .bearer, ["realm": "https://a/t", "service": "s", "scope": "repository:a:pull,push"]),
        (#"Bearer realm=https://a/t,service=s"#, .bearer, ["realm": "https://a/t", "service": "s"]),
        (#"Bearer realm="https://a/t",error="insufficient_scope",scope="x""#, .bearer, ["realm": "https://a/t", "error": "insufficient_scope", "scope": "x"]),
        (#"Bearer realm="with \"quote\"""#, .bearer, ["realm": #"with "quote""#]),
    ])
    func parses(header: String, scheme: AuthChallenge.Scheme, parameters: [String: String]) throws {
        let challenge = try #require(AuthChallenge(header: header))
        #expect(challenge.scheme == scheme)
        #expect(challenge.parameters == parameters)
    }

    @Test(arguments: ["Negotiate abc", "", "Digest realm=x"])
    func ignoresOtherSchemes(header: String) {
        #expect(AuthChallenge(header: header) == nil)
    }
}

struct RetryPolicyTests {
    let policy = RetryPolicy(maxRetries: 3, baseDelay: 1, maxDelay: 8)

    @Test(arguments: [
        (1, RetryPolicy.Outcome.status(500, retryAfter: nil), 0.0, RetryPolicy.Decision.retry(afterSeconds: 0.5)),
        (1, .status(503, retryAfter: nil), 1.0, .retry(afterSeconds: 1)),
        (3, .status(502, retryAfter: nil), 1.0, .retry(afterSeconds: 4)),
        (4, .status(500, retryAfter: nil), 0.0, .giveUp),
        (1, .status(429, retryAfter: "2"), 0.9, .retry(afterSeconds: 2)),
        (1, .status(429, retryAfter: "120"), 0.9, .retry(afterSeconds: 8)),
        (1, .status(408, retryAfter: nil), 0.0, .retry(afterSeconds: 0.5)),
        (1, .status(404, retryAfter: nil), 0.0, .giveUp),
        (1, .status(401, retryAfter: nil), 0.0, .giveUp),
        (2, .networkError(retryable: true), 0.5, .retry(afterSeconds: 1.5)),
        (1, .networkError(retryable: false), 0.5, .giveUp),
    ])
    func decides(attempt: Int, outcome: RetryPolicy.Outcome, jitter: Double, expected: RetryPolicy.Decision) {
        #expect(policy.decide(attempt: attempt, outcome: outcome, jitter: jitter) == expected)
    }
}

struct CredentialTests {
    @Test(arguments: [
        ("docker.io", "https://index.docker.io/v1/"), ("index.docker.io", "https://index.docker.io/v1/"),
        ("https://registry.example.com/v2/", "registry.example.com"), ("127.0.0.1:5000", "127.0.0.1:5000"),
    ])
    func configKeys(registry: String, key: String) {
        #expect(DockerConfigFile.key(registry) == key)
    }

    @Test func readsAuthsIdentityTokensAndAuthFiles() throws {
        try withDirectory { dir in
            let config = """
                {"auths": {"https://registry.example.com": {"auth": "\(Data("alice:s3cret:with:colons".utf8).base64EncodedString())"},
                           "tokens.example.com": {"identitytoken": "refresh-token"}},
                 "HttpHeaders": {"X-Keep": "me"}}
                """
            try Data(config.utf8).write(to: URL(fileURLWithPath: "\(dir)/config.json"))
            let store = CredentialStore(environment: ["DOCKER_CONFIG": dir, "HOME": dir])
            #expect(try store.credentials(for: "registry.example.com") == Credentials(username: "alice", secret: "s3cret:with:colons"))
            #expect(try store.credentials(for: "tokens.example.com") == Credentials(username: "<token>", secret: "refresh-token", isIdentityToken: true))
            #expect(try store.credentials(for: "other.example.com") == nil)

            try Data(#"{"auths":{"registry.example.com":{"auth":"\#(Data("podman:pw".utf8).base64EncodedString())"}}}"#.utf8)
                .write(to: URL(fileURLWithPath: "\(dir)/auth.json"))
            let podman = CredentialStore(environment: ["DOCKER_CONFIG": dir, "REGISTRY_AUTH_FILE": "\(dir)/auth.json"])
            #expect(try podman.credentials(for: "registry.example.com")?.username == "podman", "REGISTRY_AUTH_FILE comes first")
        }
    }

    @Test func loginAndLogoutKeepOtherSettings() throws {
        try withDirectory { dir in
            try Data(#"{"HttpHeaders":{"X-Keep":"me"}}"#.utf8).write(to: URL(fileURLWithPath: "\(dir)/config.json"))
            let store = CredentialStore(environment: ["DOCKER_CONFIG": dir])
            try store.store(Credentials(username: "bob", secret: "pw"), for: "127.0.0.1:5000")
            #expect(try store.credentials(for: "127.0.0.1:5000") == Credentials(username: "bob", secret: "pw"))
            let text = try String(contentsOfFile: "\(dir)/config.json", encoding: .utf8)
            #expect(text.contains("X-Keep"))
            #expect(try FileManager.default.attributesOfItem(atPath: "\(dir)/config.json")[.posixPermissions] as? Int == 0o600)
            #expect(try store.erase(for: "127.0.0.1:5000"))
            #expect(try store.credentials(for: "127.0.0.1:5000") == nil)
            #expect(try !store.erase(for: "127.0.0.1:5000"))
        }
    }

    @Test func usesCredentialHelpers() throws {
        try withDirectory { dir in
            let helper = "\(dir)/docker-credential-fake"
            try Data("""
                #!/bin/sh
                read server
                [ "$1" = get ] && [ "$server" = "helped.example.com" ] && echo '{"ServerURL":"helped.example.com","Username":"carol","Secret":"from-helper"}' && exit 0
                echo "credentials not found in native keychain"; exit 1
                """.utf8).write(to: URL(fileURLWithPath: helper))
            chmod(helper, 0o755)
            try Data(#"{"credHelpers":{"helped.example.com":"fake"}}"#.utf8).write(to: URL(fileURLWithPath: "\(dir)/config.json"))
            setenv("PATH", "\(dir):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")", 1)
            let store = CredentialStore(environment: ["DOCKER_CONFIG": dir])
            #expect(try store.credentials(for: "helped.example.com") == Credentials(username: "carol", secret: "from-helper"))
        }
    }

    @Test func credentialsNeverPrintTheirSecret() {
        let credentials = Credentials(username: "alice", secret: "canary-4c1d")
        #expect(!"\(credentials)".contains("canary"))
        #expect(!String(reflecting: credentials).contains("canary"))
    }

    @Test func brokenConfigIsNamed() throws {
        try withDirectory { dir in
            try Data("{not json".utf8).write(to: URL(fileURLWithPath: "\(dir)/config.json"))
            #expect(throws: RegistryError.configuration("\(dir)/config.json is not valid JSON; fix or remove it")) {
                try CredentialStore(environment: ["DOCKER_CONFIG": dir]).credentials(for: "x.example.com")
            }
        }
    }

    func withDirectory(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("registry-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }
}

struct RegistryOptionsTests {
    @Test(arguments: [("localhost:5000", true), ("127.0.0.1:5000", true), ("127.1.2.3", true), ("[::1]:5000", true),
                      ("registry.example.com", false), ("10.0.0.1:5000", false), ("insecure.example.com:443", true),
                      ("127.evil.example", false), ("127.evil.example:5000", false), ("127.0.0.1.nip.io", false), ("127.0.0.256", false),
                      ("127.1", false), ("LOCALHOST:5000", true)])
    func plainHTTPOnlyWhereAllowed(registry: String, allowed: Bool) {
        let options = RegistryOptions(insecureRegistries: ["insecure.example.com:443"], certificateDirectories: [])
        #expect(options.allowsPlainHTTP(registry) == allowed)
    }

    @Test func verificationIsOffOnlyForNamedRegistries() {
        let options = RegistryOptions(insecureRegistries: ["a.example.com"], certificateDirectories: [])
        #expect(!options.tls(for: "a.example.com").verify)
        #expect(options.tls(for: "b.example.com").verify)
        #expect(options.tls(for: "localhost:5000").verify, "loopback may use HTTP, but its TLS is still verified")
    }
}

struct OriginTests {
    @Test(arguments: [
        ("https://r.example.com/v2/x/blobs/uploads/abc?_state=1", true),
        ("https://r.example.com:443/v2/", true),
        ("https://R.Example.COM/v2/x", true),
        ("https://r.example.com:444/v2/", false),
        ("HTTPS://r.example.com/v2/", true),
        ("http://r.example.com/v2/", false),
        ("https://storage.example.com/v2/x", false),
        ("https://r.example.com.evil.com/v2/", false),
    ])
    func credentialsStayWithTheirRegistry(url: String, same: Bool) {
        #expect(RegistryClient.sameOrigin(url, "https://r.example.com") == same)
    }

    @Test(arguments: [
        ("http://[::1]:5000/v2/x", "http://[::1]:5000", true),
        ("http://[::1]/v2/", "http://[::1]:80", true),
        ("http://[::1]:5001/v2/", "http://[::1]:5000", false),
        ("http://127.0.0.1:5000/v2/", "http://localhost:5000", false),
        ("http://127.0.0.1:5000/v2/", "not a url", false),
    ])
    func portsAndAddressesCompareByValue(url: String, base: String, same: Bool) {
        #expect(RegistryClient.sameOrigin(url, base) == same)
    }
}
