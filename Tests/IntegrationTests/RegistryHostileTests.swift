import Foundation
import Testing

/// A registry (the real one behind the fault proxy) that lies about sizes and digests, sends
/// uploads or downloads to another host whose 401 names a cleartext realm, or never advances
/// an upload: each gives a clear error, tags nothing, and no credential leaves the registry's
/// origin, as the canary listener on 127.0.0.2 records on the wire.
@Suite(.serialized)
struct RegistryHostileTests {
    static let user = "canary"
    static let password = "canary-password-\(UUID().uuidString.prefix(8))"

    /// Secrets as they would travel: the password itself and the Basic header's base64.
    static var secrets: [String] { [password, Data("\(user):\(password)".utf8).base64EncodedString()] }

    /// A built image (pushed cleanly through the proxy if `pushed`), and a docker config that
    /// holds the canary credentials for the proxy's address (the registry behind it never asks).
    static func withImage(_ proxy: FaultProxy, pushed: Bool = true,
                          _ body: (Built, _ image: String, _ repositoryPath: String, _ env: [String: String]) throws -> Void) throws {
        let repo = RegistryPushTests.uniqueRepository(proxy.address)
        try Built.with { built in
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "h", "--base", "rootfs:\(built.base.path)"]).check()
            if pushed { try built.tool.run(["push", "\(repo)/spark:h"]).check() }
            let config = built.dir.appending(path: "docker-config")
            try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
            let auth = Data("\(user):\(password)".utf8).base64EncodedString()
            try Data(#"{"auths":{"\#(proxy.address)":{"auth":"\#(auth)"}}}"#.utf8).write(to: config.appending(path: "config.json"))
            try proxy.reset()
            let path = String(repo.dropFirst(proxy.address.count + 1)) + "/spark"
            try body(built, "\(repo)/spark:h", path, ["DOCKER_CONFIG": config.path])
        }
    }

    static func expectNoCredentialsLeft(_ proxy: FaultProxy) throws {
        let canary = try proxy.canary()
        for secret in secrets {
            #expect(!canary.received(secret), "a credential reached \(canary.address): \(canary.requests)")
        }
        #expect(!canary.requests.contains { $0.headers.keys.contains { $0.lowercased() == "authorization" } },
                "no Authorization header goes to another host: \(canary.requests)")
    }

    @Test(arguments: [
        ("a body longer than its descriptor", FaultProxy.Rule.lie(path: "/blobs/sha256:", append: 4096), "more than the"),
        ("a body shorter than its descriptor", FaultProxy.Rule.lie(path: "/blobs/sha256:", truncate: 1), "the descriptor says"),
        ("a body that does not hash to its digest", FaultProxy.Rule.lie(path: "/blobs/sha256:", flip: true), "digest mismatch"),
    ])
    func pullRefusesBlobsTheManifestDoesNotDescribe(name: String, rule: FaultProxy.Rule, expected: String) throws {
        try FaultProxy.exclusive { proxy in try Self.withImage(proxy) { built, image, path, env in
            var scoped = rule
            scoped.pathRegex = "/v2/\(path)" + rule.pathRegex
            try proxy.plan([scoped])
            let pulled = Tool(store: built.dir.appending(path: "pulled"))
            let pull = try pulled.run(["pull", image, "--retries", "1"], environment: env)
            // A digest mismatch is a verification failure (4); a size lie is caught while the blob streams
            // into the store's ingest, which reports it as a failed write (1).
            #expect(pull.status == (expected == "digest mismatch" ? 4 : 1), "\(pull)")
            #expect(pull.stderr.contains(expected), "\(pull)")
            #expect(pull.stderr.contains("sha256:"), "the error names the blob: \(pull)")
            #expect(try proxy.stats(matching: "/v2/\(path)/blobs/")["fault body"] ?? 0 >= 1)
            #expect(!(try pulled.run(["images"]).check().stdout.contains(image)), "nothing is tagged")
            try pulled.expectConsistentStore().check()
            try Self.expectNoCredentialsLeft(proxy)
        } }
    }

    /// The upload session's Location names another host, which answers 401 with a Bearer
    /// challenge whose realm is cleartext HTTP on itself: that challenge is not the registry's,
    /// so no request, to any host, fetches a token from it with the stored password.
    @Test func anUploadLocationElsewhereCannotCollectCredentials() throws {
        try FaultProxy.exclusive { proxy in try Self.withImage(proxy, pushed: false) { built, image, path, env in
            try proxy.plan([.answer(202, method: "POST", path: "/v2/\(path)/blobs/uploads/$", headers: ["Location": "http://{canary}/upload{path}"], times: 1)])
            let push = try built.tool.run(["push", image, "--retries", "0"], environment: env)
            #expect(push.status == 1, "\(push)")
            #expect(push.stderr.contains("401"), "\(push)")
            #expect(try proxy.canary().requests.contains { $0.path.hasPrefix("/upload") }, "the upload went to the other host")
            try Self.expectNoCredentialsLeft(proxy)
            #expect(try proxy.stats(matching: "/v2/\(path)/manifests/")["PUT /v2/*/manifests/*"] == nil, "no manifest was put")
        } }
    }

    /// The registry's own challenge names a token realm in clear text on another host: the
    /// stored password is not sent there; the push stops with an error that says why.
    @Test func aCleartextRealmElsewhereGetsNoPassword() throws {
        try FaultProxy.exclusive { proxy in try Self.withImage(proxy, pushed: false) { built, image, path, env in
            try proxy.plan([.answer(401, method: "GET", path: "^/v2/$",
                                    headers: ["WWW-Authenticate": #"Bearer realm="http://{canary}/token",service="canary""#])])
            let push = try built.tool.run(["push", image, "--retries", "0"], environment: env)
            #expect(push.status == 1, "\(push)")
            #expect(push.stderr.contains("on another host over plain HTTP; refusing to send credentials there"), "\(push)")
            #expect(push.stderr.contains("--insecure-registry 127.0.0.2:"), "the hint names the host: \(push)")
            try Self.expectNoCredentialsLeft(proxy)
            #expect(try proxy.stats(matching: "/v2/\(path)/manifests/")["PUT /v2/*/manifests/*"] == nil, "no manifest was put")
        } }
    }

    /// A blob GET redirected to another host, whose 401 names a cleartext realm: a clear
    /// error naming the blob and the status, nothing tagged, no credential sent there.
    @Test func aRedirectElsewhereGetsNoCredentials() throws {
        try FaultProxy.exclusive { proxy in try Self.withImage(proxy) { built, image, path, env in
            try proxy.plan([.answer(307, method: "GET", path: "/v2/\(path)/blobs/sha256:", headers: ["Location": "http://{canary}/storage{path}"])])
            let pulled = Tool(store: built.dir.appending(path: "pulled"))
            let pull = try pulled.run(["pull", image, "--retries", "0"], environment: env)
            #expect(pull.status == 1, "\(pull)")
            #expect(pull.stderr.contains("HTTP 401"), "\(pull)")
            #expect(pull.stderr.contains("blob sha256:"), "\(pull)")
            #expect(try proxy.canary().requests.contains { $0.path.hasPrefix("/storage") }, "the redirect was followed")
            try Self.expectNoCredentialsLeft(proxy)
            #expect(!(try pulled.run(["images"]).check().stdout.contains(image)), "nothing is tagged")
        } }
    }

    /// A connection cut inside a blob's body, then a retry that starts again at byte 0: the
    /// store gets each byte once (the digest checks it), and the pull completes.
    @Test func aRetriedDownloadDoesNotAppendTwice() throws {
        try FaultProxy.exclusive { proxy in try Self.withImage(proxy) { built, image, path, env in
            try proxy.plan([.lie(path: "/v2/\(path)/blobs/sha256:", cutAt: 100, times: 2)])
            let pulled = Tool(store: built.dir.appending(path: "pulled"))
            try pulled.run(["pull", image, "--retries", "3"], environment: env).check()
            #expect(try proxy.stats(matching: "/v2/\(path)/blobs/")["fault body"] == 2)
            #expect(try pulled.manifestDigest(image) == (try built.tool.manifestDigest(image)))
            try pulled.expectConsistentStore().check()
        } }
    }

    /// A manifest served with an empty Content-Type: its own mediaType says what it is.
    @Test func anEmptyContentTypeIsNoTrap() throws {
        try FaultProxy.exclusive { proxy in try Self.withImage(proxy) { built, image, path, env in
            try proxy.plan([.lie(path: "/v2/\(path)/manifests/", headers: ["Content-Type": ""])])
            let pulled = Tool(store: built.dir.appending(path: "pulled"))
            try pulled.run(["pull", image, "--retries", "0"], environment: env).check()
            #expect(try proxy.stats(matching: "/v2/\(path)/manifests/")["fault body"] ?? 0 >= 1)
            try pulled.expectConsistentStore().check()
        } }
    }

    /// `--verbose` shows requests, but not the upload sessions' `_state` tokens.
    @Test func verboseHidesUploadState() throws {
        try FaultProxy.exclusive { proxy in try Self.withImage(proxy, pushed: false) { built, image, _, env in
            let push = try built.tool.run(["push", image, "--verbose"], environment: env).check()
            #expect(push.stderr.contains("_state=<redacted>"), "\(push)")
            #expect(!push.stderr.replacingOccurrences(of: "_state=<redacted>", with: "").contains("_state="), "\(push)")
        } }
    }

    /// Every PATCH answered 202 with a `Range` that does not move the upload on (or lies past
    /// any blob's end): it ends, bounded, with an error that says so, and no manifest is put.
    @Test(arguments: [("0-0", "does not advance"), ("0-9223372036854775807", "holds bytes up to 9223372036854775807")])
    func anUploadThatNeverAdvancesEnds(range: String, expected: String) throws {
        try FaultProxy.exclusive { proxy in try Self.withImage(proxy, pushed: false) { built, image, path, env in
            try proxy.plan([.answer(202, method: "PATCH", path: "/v2/\(path)/blobs/uploads/", headers: ["Location": "{path}", "Range": range])])
            // Bounded: an endless loop is a failure here, not a hung test run.
            let push = try Binary.run(["push", image, "--chunk-size", "64k", "--retries", "1", "--store", built.tool.store.path],
                                      environment: env, timeout: .seconds(120))
            #expect(!push.timedOut, "the push ends by itself")
            #expect(push.status == 1, "\(push)")
            #expect(push.stderr.contains(expected), "\(push)")
            #expect(try proxy.stats(matching: "/v2/\(path)/manifests/")["PUT /v2/*/manifests/*"] == nil, "no manifest was put")
        } }
    }

    @Test(arguments: [
        (["--retries", "9223372036854775807"], "--retries must be between 0 and"),
        (["--retries=-1"], "--retries must be between 0 and"),
        (["--chunk-size", "9223372036854775807k"], "--chunk-size '9223372036854775807k' is not a size"),
        (["--chunk-size", "99999999999999999999"], "is not a size"),
        (["--chunk-size", "5g"], "is not a size from 1 byte to 4g"),
    ])
    func outOfRangeNumbersAreRefused(arguments: [String], expected: String) throws {
        try TemporaryDirectory.with { dir in
            let result = try Tool(store: dir.appending(path: "store")).run(["push", "127.0.0.1:9/x/spark:a"] + arguments)
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains(expected), "\(result)")
            #expect(!result.stderr.contains("Fatal error"), "\(result)")
        }
    }
}
