import Foundation

/// A small but complete Spark release layout, with the kinds of files a real one has: jars,
/// executable scripts, a symlink, nested data, python bindings and kubernetes tests.
struct SparkFixture {
    let home: URL

    static let files: [(path: String, mode: Int, bytes: Int)] = [
        ("RELEASE", 0o644, 0),
        // Over two gzip blocks, so umoci and docker (Go readers) take multi-block layers.
        ("jars/spark-core_2.13-4.3.0.jar", 0o644, 2_500_000),
        ("jars/spark-sql_2.13-4.3.0.jar", 0o644, 200_000),
        ("jars/scala-library-2.13.16.jar", 0o644, 100_000),
        ("bin/spark-submit", 0o755, 0),
        ("sbin/start-master.sh", 0o755, 2_000),
        ("examples/jars/spark-examples_2.13-4.3.0.jar", 0o644, 10_000),
        ("examples/src/main/python/pi.py", 0o644, 500),
        ("data/graphx/users.txt", 0o644, 700),
        ("data/mllib/sample.txt", 0o600, 300),
        ("python/pyspark/__init__.py", 0o644, 100),
        ("python/lib/pyspark.zip", 0o644, 5_000),
        ("python/lib/py4j-0.10.9.9-src.zip", 0o644, 4_000),
        ("kubernetes/tests/decommissioning.py", 0o644, 400),
    ]

    /// What the built-in Dockerfile puts where: distribution directory → image directory.
    static let copies = [
        ("jars", "opt/spark/jars"), ("bin", "opt/spark/bin"), ("sbin", "opt/spark/sbin"),
        ("examples/jars", "opt/spark/examples/jars"), ("examples/src", "opt/spark/examples/src"),
        ("data", "opt/spark/data"), ("kubernetes/tests", "opt/spark/tests"),
    ]

    init(at home: URL) throws {
        self.home = home
        let fm = FileManager.default
        for file in Self.files {
            let url = home.appending(path: file.path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let data: Data
            switch file.path {
            case "RELEASE": data = Data("Spark 4.3.0 (git revision 0000000) built for Hadoop 3.4.1\n".utf8)
            case "bin/spark-submit": data = Data("#!/bin/sh\necho \"spark-submit $*\"\n".utf8)
            default: data = Self.pseudoRandomBytes(count: file.bytes, seed: file.path)
            }
            try data.write(to: url)
            try fm.setAttributes([.posixPermissions: file.mode], ofItemAtPath: url.path)
        }
        try fm.createSymbolicLink(atPath: home.appending(path: "bin/spark-shell").path, withDestinationPath: "spark-submit")
        try fm.linkItem(at: home.appending(path: "sbin/start-master.sh"), to: home.appending(path: "sbin/start-master-link.sh"))
        // Directories created by FileManager inherit the umask; make them what a release has.
        for dir in ["", "jars", "bin", "sbin", "examples", "examples/jars", "examples/src", "examples/src/main",
                    "examples/src/main/python", "data", "data/graphx", "data/mllib", "python", "python/pyspark",
                    "python/lib", "kubernetes", "kubernetes/tests"] {
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: home.appending(path: dir).path)
        }
    }

    /// Builds are reproducible: tests that need an image no other test has (a daemon holds
    /// images by ID) change the RELEASE file.
    func makeUnique() throws {
        try Data("Spark 4.3.0 \(UUID().uuidString)\n".utf8).write(to: home.appending(path: "RELEASE"))
    }

    /// Replaces one jar's content, as a rebuilt or upgraded dependency would.
    func changeJar(_ name: String) throws {
        try Self.pseudoRandomBytes(count: 123_456, seed: "changed-\(name)").write(to: home.appending(path: "jars/\(name)"))
    }

    /// Incompressible but reproducible bytes, like the jars of a real distribution.
    static func pseudoRandomBytes(count: Int, seed: String) -> Data {
        var state = UInt64(truncatingIfNeeded: seed.utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 })
        var data = Data(capacity: count)
        for _ in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            data.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        return data
    }
}

/// A test's temporary directory with the fixture distribution, the tiny base and a private store.
struct Built {
    var dir: URL
    var spark: SparkFixture
    var base: URL
    var tool: Tool

    static func with(_ body: (Built) throws -> Void) throws {
        try TemporaryDirectory.with { dir in
            let spark = try SparkFixture(at: dir.appending(path: "spark"))
            let base = dir.appending(path: "base.tar.gz")
            try TinyBase.makeRootfs(at: base)
            try body(Built(dir: dir, spark: spark, base: base, tool: Tool(store: dir.appending(path: "store"))))
        }
    }
}

/// The tool with a private store, and the checks every test needs.
struct Tool {
    let store: URL

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try Binary.run(arguments + ["--store", store.path], environment: environment)
    }

    /// Builds spark (and what `extra` asks for) from `home` on the tiny base; returns stdout.
    @discardableResult
    func build(home: URL, base: URL, tag: String = "4.3.0", extra: [String] = []) throws -> CommandResult {
        try run(["build", "--spark-home", home.path, "-r", "localhost:5000/spark", "-t", tag,
                 "--base", "rootfs:\(base.path)"] + extra).check()
    }

    func manifestDigest(_ image: String) throws -> String {
        let result = try run(["images"]).check()
        for line in result.stdout.split(separator: "\n") {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            if columns.first.map(String.init) == image { return String(columns[1]) }
        }
        throw CommandFailed(result: result)
    }

    /// The store must stay consistent after anything, including failures.
    func expectConsistentStore() throws -> CommandResult {
        try run(["verify"])
    }
}
