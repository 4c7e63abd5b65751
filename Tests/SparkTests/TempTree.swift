import Foundation
import Spark

/// A directory tree in a fresh temporary directory, for one test. Call `remove()` in a `defer`.
struct TempTree {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/spark-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func path(_ relative: String) -> String { relative.isEmpty ? root : root + "/" + relative }

    func dir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path(relative), withIntermediateDirectories: true)
    }

    func file(_ relative: String, _ text: String = "", mode: Int = 0o644) throws {
        let url = URL(fileURLWithPath: path(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    // MARK: Spark layouts, reduced to what detection and the Dockerfiles look at

    func make(_ kind: DistributionKind) throws {
        switch kind {
        case .release: try release()
        case .sourceBuild: try sourceBuild()
        case .pipPackage: try pipPackage()
        }
    }

    /// Empty files.
    func files(_ paths: String...) throws {
        for path in paths { try file(path) }
    }

    /// What every layout has at the same place: launch scripts, data and Python examples.
    func scriptsAndData() throws {
        try file("bin/spark-submit", "#!/bin/sh\n", mode: 0o755)
        try file("sbin/spark-daemon.sh", "#!/bin/sh\n", mode: 0o755)
        try files("data/graphx/users.txt", "examples/src/main/python/pi.py")
    }

    /// An unpacked release, like spark-4.3.0-bin-hadoop3.
    func release(version: String = "4.3.0", python: Bool = true, sparkR: Bool = true) throws {
        try file("RELEASE", "Spark \(version) built for Hadoop 3.4.1\nBuild flags: -B -Pkubernetes\n")
        try files("jars/spark-core_2.13-\(version).jar", "jars/spark-kubernetes_2.13-\(version).jar",
                  "jars/scala-library-2.13.16.jar", "examples/jars/spark-examples_2.13-\(version).jar",
                  "kubernetes/tests/py_container_checks.py")
        try scriptsAndData()
        try file("kubernetes/dockerfiles/spark/Dockerfile", "FROM x\n")
        try file("kubernetes/dockerfiles/spark/entrypoint.sh", "#!/bin/bash\n", mode: 0o755)
        if python { try files("python/pyspark/__init__.py", "python/lib/pyspark.zip", "python/lib/py4j-0.10.9.9-src.zip") }
        if sparkR { try file("R/lib/SparkR/DESCRIPTION") }
    }

    /// A built source tree, as docker-image-tool.sh's dev branch expects it.
    func sourceBuild(scala: String = "2.13", version: String = "4.3.0-SNAPSHOT", pom: Bool = true) throws {
        if pom {
            try file("pom.xml", """
                <project>
                  <parent>
                    <groupId>org.apache</groupId>
                    <artifactId>apache</artifactId>
                    <version>35</version>
                  </parent>
                  <groupId>org.apache.spark</groupId>
                  <artifactId>spark-parent_\(scala)</artifactId>
                  <version>\(version)</version>
                </project>
                """)
        }
        try files("assembly/target/scala-\(scala)/jars/spark-core_\(scala)-\(version).jar",
                  "examples/target/scala-\(scala)/jars/spark-examples_\(scala)-\(version).jar",
                  "resource-managers/kubernetes/docker/src/main/dockerfiles/spark/Dockerfile",
                  "resource-managers/kubernetes/integration-tests/tests/decommissioning.py",
                  "python/pyspark/__init__.py", "python/lib/py4j-0.10.9.9-src.zip")
        try scriptsAndData()
    }

    /// site-packages/pyspark after `pip install pyspark==4.3.0` (the layout pyspark 4.3.0 installs).
    func pipPackage(version: String = "4.3.0") throws {
        try file("version.py", "__version__: str = '\(version)'\n")
        try files("__init__.py", "find_spark_home.py", "sql/__init__.py", "shell.py",
                  "jars/spark-core_2.13-\(version).jar", "jars/connect-repl/ammonite_2.13.18-3.0.8.jar",
                  "licenses/LICENSE-py4j.txt", "python/lib/pyspark.zip", "python/lib/py4j-0.10.9.9-src.zip",
                  "python/pyspark/shell.py")
        try scriptsAndData()
    }
}
