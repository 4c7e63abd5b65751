import OCI
import Testing

struct ImageReferenceTests {
    @Test(arguments: [
        ("busybox", "docker.io/library/busybox:latest"),
        ("eclipse-temurin:17-jre", "docker.io/library/eclipse-temurin:17-jre"),
        ("apache/spark:4.0.1", "docker.io/apache/spark:4.0.1"),
        ("index.docker.io/apache/spark", "docker.io/apache/spark:latest"),
        ("docker.io/spark", "docker.io/library/spark:latest"),
        ("localhost/spark", "localhost/spark:latest"),
        ("localhost:5000/spark/spark-py:v1", "localhost:5000/spark/spark-py:v1"),
        ("127.0.0.1:5000/a/b/c:1.0-rc_1", "127.0.0.1:5000/a/b/c:1.0-rc_1"),
        ("registry.example.com/spark/spark:4.0.1", "registry.example.com/spark/spark:4.0.1"),
        ("[::1]:5000/spark:x", "[::1]:5000/spark:x"),
        ("my-registry.io/a__b/c.d/e--f", "my-registry.io/a__b/c.d/e--f:latest"),
        ("spark@sha256:" + String(repeating: "a", count: 64), "docker.io/library/spark@sha256:" + String(repeating: "a", count: 64)),
        ("spark:t@sha256:" + String(repeating: "b", count: 64), "docker.io/library/spark:t@sha256:" + String(repeating: "b", count: 64)),
    ])
    func normalises(input: String, expected: String) throws {
        #expect(try ImageReference(parsing: input).description == expected)
    }

    @Test(arguments: [
        ("docker.io/library/spark:4.0.1", "spark:4.0.1"),
        ("docker.io/apache/spark:4.0.1", "apache/spark:4.0.1"),
        ("localhost:5000/spark/spark:4", "localhost:5000/spark/spark:4"),
    ])
    func familiarForm(input: String, expected: String) throws {
        #expect(try ImageReference(parsing: input).familiarDescription == expected)
    }

    @Test func partsAreSplit() throws {
        let ref = try ImageReference(parsing: "localhost:5000/spark/spark:4.0.1")
        #expect(ref.registry == "localhost:5000")
        #expect(ref.repository == "spark/spark")
        #expect(ref.tag == "4.0.1")
        #expect(ref.digest == nil)
        #expect(ref.name == "localhost:5000/spark/spark")
        #expect(try ref.withTag("latest").description == "localhost:5000/spark/spark:latest")
    }

    @Test(arguments: [
        ("spark:Bad:Tag", "repository name 'library/spark:Bad' must be lowercase"),
        ("Spark", "repository name 'library/Spark' must be lowercase"),
        ("registry.example.com/", "a repository name is required after 'registry.example.com/'"),
        ("spark:", "tag '' must be 1 to 128 characters of A-Z a-z 0-9 _ . - and not start with . or -"),
        ("spark:.hidden", "tag '.hidden' must be 1 to 128 characters of A-Z a-z 0-9 _ . - and not start with . or -"),
        ("spark:" + String(repeating: "x", count: 129), "tag '\(String(repeating: "x", count: 129))' must be 1 to 128 characters of A-Z a-z 0-9 _ . - and not start with . or -"),
        ("spark/-x", "repository path component '-x' must be lowercase letters and digits, separated by '.', '_', '__' or '-'"),
        ("spark//x", "repository path component '' must be lowercase letters and digits, separated by '.', '_', '__' or '-'"),
        ("spark/a___b", "repository path component 'a___b' must be lowercase letters and digits, separated by '.', '_', '__' or '-'"),
        ("bad_host.com:port/x", "'bad_host.com:port' is not a valid registry host[:port]"),
        ("spark@sha256:abc", "invalid digest 'sha256:abc': sha256 needs 64 lowercase hex digits"),
    ])
    func rejects(input: String, reason: String) {
        #expect(throws: OCIError.invalidReference(input, reason: reason)) {
            try ImageReference(parsing: input)
        }
    }

    @Test func reportsTheReferenceInItsMessage() {
        let error = OCIError.invalidReference("spark:Bad:Tag", reason: "r")
        #expect(error.description == "invalid image reference 'spark:Bad:Tag': r")
    }
}

struct DigestTests {
    @Test func parsesAndPrints() throws {
        let hex = String(repeating: "0123456789abcdef", count: 4)
        let digest = try Digest(parsing: "sha256:\(hex)")
        #expect(digest.algorithm == "sha256")
        #expect(digest.encoded == hex)
        #expect(digest.description == "sha256:\(hex)")
    }

    @Test(arguments: [
        ("sha256", "expected ALGORITHM:HEX"),
        ("md5:abcd", "unsupported algorithm 'md5'"),
        ("sha256:" + String(repeating: "A", count: 64), "sha256 needs 64 lowercase hex digits"),
        ("sha256:" + String(repeating: "a", count: 63), "sha256 needs 64 lowercase hex digits"),
        ("sha512:" + String(repeating: "a", count: 64), "sha512 needs 128 lowercase hex digits"),
    ])
    func rejects(input: String, reason: String) {
        #expect(throws: OCIError.invalidDigest(input, reason: reason)) { try Digest(parsing: input) }
    }
}

struct PlatformTests {
    @Test(arguments: [
        ("linux/amd64", "linux/amd64"), ("linux/arm64/v8", "linux/arm64/v8"),
        ("linux/x86_64", "linux/amd64"), ("linux/aarch64", "linux/arm64"),
    ])
    func parses(input: String, expected: String) throws {
        #expect(try Platform(parsing: input).description == expected)
    }

    @Test(arguments: ["linux", "linux/", "/amd64", "a/b/c/d"])
    func rejects(input: String) {
        #expect(throws: OCIError.invalidPlatform(input)) { try Platform(parsing: input) }
    }

    @Test func variantMatching() throws {
        let arm = try Platform(parsing: "linux/arm64")
        #expect(arm.matches(try Platform(parsing: "linux/arm64/v8")))
        #expect(!arm.matches(try Platform(parsing: "linux/amd64")))
        #expect(!(try Platform(parsing: "linux/arm/v7")).matches(try Platform(parsing: "linux/arm/v6")))
    }
}
