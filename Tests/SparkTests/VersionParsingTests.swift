import Testing
@testable import Spark

@Suite struct VersionParsingTests {
    @Test(arguments: [
        ("Spark 4.3.0 built for Hadoop 3.4.1\nBuild flags: -B -Pkubernetes\n", "4.3.0"),
        ("Spark 3.5.7 built for Hadoop 3.3.4", "3.5.7"),
        ("\nSpark 4.0.0-preview2 built for Hadoop 3.4.0\n", "4.0.0-preview2"),
        ("Spark 2.4.8", "2.4.8"),
        ("", nil),
        ("Build flags: -Pyarn", nil),
        ("Sparkling 1.0 built for x", nil),
    ] as [(String, String?)])
    func release(text: String, expected: String?) {
        #expect(VersionParsing.releaseVersion(text) == expected)
    }

    @Test(arguments: [
        ("__version__: str = '4.3.0'\n", "4.3.0"),
        ("# comment\n__version__ = \"3.5.7\"\n", "3.5.7"),
        ("__version__='4.0.0.dev1'", "4.0.0.dev1"),
        ("version = '1'\n", nil),
        ("__version__ = ''\n", nil),
    ] as [(String, String?)])
    func pyspark(text: String, expected: String?) {
        #expect(VersionParsing.pysparkVersion(text) == expected)
    }

    @Test(arguments: [
        ("<parent><artifactId>apache</artifactId><version>35</version></parent>\n<artifactId>spark-parent_2.13</artifactId>\n  <version>4.1.0-SNAPSHOT</version>", "4.1.0-SNAPSHOT"),
        ("<artifactId>spark-parent_2.12</artifactId><version> 3.4.4 </version>", "3.4.4"),
        ("<artifactId>spark-core_2.13</artifactId><version>4.0.0</version>", nil),
        ("<artifactId>spark-parent_2.13</artifactId>", nil),
    ] as [(String, String?)])
    func pom(text: String, expected: String?) {
        #expect(VersionParsing.pomVersion(text) == expected)
    }

    @Test(arguments: [
        (["spark-catalyst_2.13-4.3.0.jar", "spark-core_2.13-4.3.0.jar"], "2.13", "4.3.0"),
        (["spark-core_2.12-3.5.0-SNAPSHOT.jar"], "2.12", "3.5.0-SNAPSHOT"),
        (["spark-core_2.13-4.3.0-tests.jar", "spark-core_2.13-4.3.0.jar"], "2.13", "4.3.0"),
        (["spark-sql_2.13-4.3.0.jar"], nil, nil),
        (["spark-core_2.13.jar"], nil, nil),
    ] as [([String], String?, String?)])
    func coreJar(names: [String], scala: String?, version: String?) {
        let found = VersionParsing.coreJar(in: names)
        #expect(found?.scala == scala)
        #expect(found?.version == version)
    }
}

@Suite struct ContextMountTests {
    static let mounts = [
        ContextMount(contextPath: "", source: .directory(path: "/d", excluding: ["secret", "a/b"])),
        ContextMount(contextPath: "python/pyspark", source: .directory(path: "/p", excluding: ["jars"])),
        ContextMount(contextPath: "k/spark/entrypoint.sh", source: .bytes([1], mode: 0o755)),
        ContextMount(contextPath: "k/spark/work-dir", source: .emptyDirectory(mode: 0o755)),
        ContextMount(contextPath: "conf/x.conf", source: .file(path: "/etc/x.conf")),
    ]

    @Test(arguments: [
        ("jars", 0, "jars", "/d/jars"),
        ("", 0, "", "/d"),
        ("./bin//spark-submit", 0, "bin/spark-submit", "/d/bin/spark-submit"),
        ("a/c", 0, "a/c", "/d/a/c"),
        ("secrets", 0, "secrets", "/d/secrets"),
        ("python", 0, "python", "/d/python"),
        ("python/pyspark", 1, "", "/p"),
        ("python/pyspark/sql/a.py", 1, "sql/a.py", "/p/sql/a.py"),
        ("python/pysparkling", 0, "python/pysparkling", "/d/python/pysparkling"),
        ("k/spark/entrypoint.sh", 2, "", nil),
        ("k/spark/work-dir", 3, "", nil),
        ("k/spark/Dockerfile", 0, "k/spark/Dockerfile", "/d/k/spark/Dockerfile"),
        ("conf/x.conf", 4, "", "/etc/x.conf"),
    ] as [(String, Int, String, String?)])
    func resolves(path: String, mount: Int, relative: String, disk: String?) {
        let resolved = ContextMount.resolve(path, in: Self.mounts)
        #expect(resolved == ContextMount.Resolved(mount: Self.mounts[mount], relativePath: relative, diskPath: disk))
    }

    @Test(arguments: ["secret", "secret/key", "a/b", "a/b/c", "python/pyspark/jars/x.jar", "k/spark/entrypoint.sh/x", "k/spark/work-dir/f", "conf/x.conf/y"])
    func hidden(path: String) {
        #expect(ContextMount.resolve(path, in: Self.mounts) == nil)
    }

    @Test func nothingWithoutMounts() {
        #expect(ContextMount.resolve("jars", in: []) == nil)
    }
}
