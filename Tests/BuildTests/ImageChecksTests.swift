@testable import Build
import OCI
import Testing

struct ImageChecksTests {
    static let complete: Set<String> = ["usr/bin/java", "usr/bin/tini", "usr/bin/ps", "usr/bin/python3", "usr/bin/R", "etc/passwd"]
    static let sparkUser = ImageFacts.PasswdFile(text: "root:x:0:0:root:/root:/bin/sh\nspark:x:185:185::/opt/spark:/bin/false\n", mode: 0o644)

    static func facts(_ paths: Set<String>, user: String? = "185", env: [String]? = nil,
                      passwd: ImageFacts.PasswdFile? = sparkUser) -> ImageFacts {
        var config = ContainerConfig()
        config.user = user
        config.env = env
        return ImageFacts(paths: paths, config: config, passwd: passwd)
    }

    @Test(arguments: [
        ("a complete JVM image", facts(complete), ImageChecks.Needs.jvm, [String]()),
        ("busybox: nothing Spark needs", facts(["bin/busybox"], passwd: nil), .jvm,
         ["no java on PATH", "no tini on PATH", "no ps on PATH", "user 185 has no entry"]),
        ("java only under JAVA_HOME", facts(complete.subtracting(["usr/bin/java"]).union(["opt/java/bin/java"]),
                                            env: ["PATH=/usr/bin", "JAVA_HOME=/opt/java"]), .jvm, []),
        ("java nowhere, JAVA_HOME named", facts(complete.subtracting(["usr/bin/java"]), env: ["PATH=/usr/bin", "JAVA_HOME=/opt/java"]), .jvm,
         ["no java on PATH or under JAVA_HOME=/opt/java"]),
        ("a PATH that leaves out /usr/bin", facts(complete, env: ["PATH=/opt/bin"]), .jvm, ["no java", "no tini", "no ps"]),
        ("spark-py without python3", facts(complete.subtracting(["usr/bin/python3"])), .python, ["spark-py has no python3"]),
        ("spark-r without R", facts(complete.subtracting(["usr/bin/R"])), .r, ["spark-r has no R"]),
        ("spark without python3 is fine", facts(complete.subtracting(["usr/bin/python3"])), .jvm, []),
        ("uid 185 unknown, passwd read-only", facts(complete, passwd: .init(text: "root:x:0:0::/root:/bin/sh\n", mode: 0o644)), .jvm,
         ["user 185 has no entry"]),
        ("uid 185 unknown, passwd group-writable", facts(complete, passwd: .init(text: "root:x:0:0::/root:/bin/sh\n", mode: 0o664)), .jvm, []),
        ("user by name", facts(complete, user: "spark:spark"), .jvm, []),
        ("root needs no entry", facts(complete, user: "0", passwd: nil), .jvm, []),
    ])
    func findsWhatSparkLacks(name: String, facts: ImageFacts, needs: ImageChecks.Needs, expected: [String]) {
        let problems = ImageChecks.run(facts, needs: needs).map(\.problem)
        #expect(problems.count == expected.count, "\(name): \(problems)")
        for (problem, fragment) in zip(problems, expected) { #expect(problem.contains(fragment), "\(name): \(problem)") }
    }
}
