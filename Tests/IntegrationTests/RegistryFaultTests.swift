import Foundation
import Testing

/// Pushes through the fault-injecting proxy in front of the real registry complete, and give
/// the same result as a clean push.
@Suite(.serialized)
struct RegistryFaultTests {
    static let largeJar = "spark-core_2.13-4.3.0.jar"

    @Test(arguments: [
        ("500s on the first blob uploads", [FaultProxy.Rule.status(500, method: "PUT", path: "/blobs/uploads/", times: 2)], [String]()),
        ("429 with Retry-After", [FaultProxy.Rule.status(429, method: "*", path: "/v2/.+/blobs/", retryAfter: 1, times: 2)], [String]()),
        ("a connection cut inside a chunked upload", [FaultProxy.Rule.cut(method: "PATCH", path: "/blobs/uploads/", afterBytes: 700_000)], ["--chunk-size", "1m"]),
        ("a connection cut inside a monolithic upload", [FaultProxy.Rule.cut(method: "PUT", path: "/blobs/uploads/", afterBytes: 500_000)], [String]()),
    ])
    func pushSurvives(name: String, rules: [FaultProxy.Rule], extra: [String]) throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try FaultProxy.exclusive { proxy in try Built.with { built in
            // A jar big enough that the cut lands inside it.
            try SparkFixture.pseudoRandomBytes(count: 3 << 20, seed: "big").write(to: built.spark.home.appending(path: "jars/\(Self.largeJar)"))
            let repo = RegistryPushTests.uniqueRepository(proxy.address)
            try built.tool.run(["build", "--spark-home", built.spark.home.path, "-r", repo, "-t", "f", "--base", "rootfs:\(built.base.path)"]).check()
            try proxy.reset()
            try proxy.plan(rules)
            let push = try built.tool.run(["push", "\(repo)/spark:f", "--retries", "4"] + extra).check()
            let stats = try proxy.stats()
            #expect(stats.keys.contains { $0.hasPrefix("fault ") }, "the fault was injected: \(stats)")
            #expect(push.stdout.contains("pushed"), "\(push)")

            // Same bytes as a clean push: every blob the registry serves hashes to its digest.
            let direct = repo.replacingOccurrences(of: proxy.address, with: registry)
            let copy = built.dir.appending(path: "copy")
            try Command.run("skopeo", ["copy", "--src-tls-verify=false", "docker://\(direct)/spark:f", "oci:\(copy.path):f"]).check()
            let inspect = try Command.run("skopeo", ["inspect", "--tls-verify=false", "docker://\(direct)/spark:f"]).check()
            let json = try JSONSerialization.jsonObject(with: inspect.stdoutData) as! [String: Any]
            #expect(json["Digest"] as? String == (try built.tool.manifestDigest("\(repo)/spark:f")))
        } }
    }
}
