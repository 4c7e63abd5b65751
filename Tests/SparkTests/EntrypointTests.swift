import Foundation
import Testing
@testable import Spark

/// Runs our entrypoint.sh under each shell it must work with, in each of its modes, with fake
/// spark-submit, java, hadoop and tini scripts that print their argv one argument per line.
@Suite struct EntrypointTests {
    static let shells: [[String]] = [["sh"], ["bash"], ["busybox", "sh"]]

    /// `[arg]` per line, so that spaces and empty arguments show.
    static let printArgs = "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n"

    struct Sandbox {
        let tree: TempTree
        var env: [String: String]

        init() throws {
            tree = try TempTree()
            try tree.file("entrypoint.sh", DefaultDockerfiles.entrypoint.text, mode: 0o755)
            try tree.file("spark/bin/spark-submit", EntrypointTests.printArgs, mode: 0o755)
            try tree.file("jdk/bin/java", EntrypointTests.printArgs, mode: 0o755)
            try tree.dir("path")
            env = ["PATH": tree.path("path") + ":/usr/bin:/bin", "SPARK_HOME": tree.path("spark")]
        }

        func run(_ shell: [String], _ args: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = shell + [tree.path("entrypoint.sh")] + args
            process.environment = env
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self).replacingOccurrences(of: tree.root, with: "@"))
        }
    }

    static func available(_ shell: [String]) -> Bool {
        ["/usr/bin/", "/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + shell[0]) }
    }

    @Test(arguments: shells)
    func passThrough(shell: [String]) throws {
        guard Self.available(shell) else { print("SKIPPED: \(shell[0]) is not installed"); return }
        let sandbox = try Sandbox()
        defer { sandbox.tree.remove() }
        let result = try sandbox.run(shell, ["printf", "<%s>", "a b", "", "c"])
        #expect(result.output == "Non-spark-on-k8s command provided, proceeding in pass-through mode...\n<a b><><c>")
        #expect(result.status == 0)
    }

    @Test(arguments: shells)
    func driver(shell: [String]) throws {
        guard Self.available(shell) else { print("SKIPPED: \(shell[0]) is not installed"); return }
        var sandbox = try Sandbox()
        defer { sandbox.tree.remove() }
        sandbox.env["SPARK_DRIVER_BIND_ADDRESS"] = "10.1.2.3"
        let result = try sandbox.run(shell, ["driver", "--class", "org.example.Main", "local:///app with space.jar", "*"])
        #expect(result.output == """
            [--conf]
            [spark.driver.bindAddress=10.1.2.3]
            [--conf]
            [spark.executorEnv.SPARK_DRIVER_POD_IP=10.1.2.3]
            [--deploy-mode]
            [client]
            [--class]
            [org.example.Main]
            [local:///app with space.jar]
            [*]

            """)
        #expect(result.status == 0)
    }

    static let executorEnv = [
        "SPARK_JAVA_OPT_10": "-Dten=10",
        "SPARK_JAVA_OPT_2": "-Dtwo=two words",
        "SPARK_JAVA_OPT_0": "-Dzero=$HOME *",
        "SPARK_EXECUTOR_MEMORY": "2g",
        "SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@driver:7078",
        "SPARK_EXECUTOR_ID": "3",
        "SPARK_EXECUTOR_CORES": "2",
        "SPARK_APPLICATION_ID": "spark-app-1",
        "SPARK_EXECUTOR_POD_IP": "10.0.0.9",
        "SPARK_RESOURCE_PROFILE_ID": "0",
        "SPARK_EXECUTOR_POD_NAME": "exec-3",
        "SPARK_EXTRA_CLASSPATH": "/extra/*",
        "HADOOP_CONF_DIR": "/etc/hadoop",
    ]

    static func executorOutput(java: String, classpath: String) -> String {
        """
        [-Dzero=$HOME *]
        [-Dtwo=two words]
        [-Dten=10]
        [-Xms2g]
        [-Xmx2g]
        [-cp]
        [\(classpath)]
        [org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend]
        [--driver-url]
        [spark://CoarseGrainedScheduler@driver:7078]
        [--executor-id]
        [3]
        [--cores]
        [2]
        [--app-id]
        [spark-app-1]
        [--hostname]
        [10.0.0.9]
        [--resourceProfileId]
        [0]
        [--podName]
        [exec-3]

        """
    }

    @Test(arguments: shells)
    func executor(shell: [String]) throws {
        guard Self.available(shell) else { print("SKIPPED: \(shell[0]) is not installed"); return }
        var sandbox = try Sandbox()
        defer { sandbox.tree.remove() }
        sandbox.env.merge(Self.executorEnv) { $1 }
        sandbox.env["JAVA_HOME"] = sandbox.tree.path("jdk")
        sandbox.env["SPARK_CONF_DIR"] = "/conf"
        sandbox.env["SPARK_DIST_CLASSPATH"] = "/dist/*"
        let result = try sandbox.run(shell, ["executor"])
        #expect(result.output == Self.executorOutput(java: "@/jdk", classpath: "/conf:/etc/hadoop::@/spark/jars/*:/extra/*:/dist/*"))
        #expect(result.status == 0)
    }

    /// Without JAVA_HOME, java.home comes from `java -XshowSettings:properties`; with HADOOP_HOME,
    /// SPARK_DIST_CLASSPATH comes from `hadoop classpath`; tini on PATH runs the command.
    @Test(arguments: shells)
    func executorDiscoversJavaHadoopAndTini(shell: [String]) throws {
        guard Self.available(shell) else { print("SKIPPED: \(shell[0]) is not installed"); return }
        var sandbox = try Sandbox()
        defer { sandbox.tree.remove() }
        let tree = sandbox.tree
        try tree.file("path/java", """
            #!/bin/sh
            echo "Property settings:" >&2
            echo "    java.class.path = " >&2
            echo "    java.home = \(tree.path("jdk"))" >&2
            echo 'openjdk version "17.0.2"' >&2
            """, mode: 0o755)
        try tree.file("hadoop/bin/hadoop", "#!/bin/sh\n[ \"$1\" = classpath ] && echo '/hadoop/common/*:/hadoop/hdfs/*'\n", mode: 0o755)
        try tree.file("path/tini", "#!/bin/sh\necho \"tini $1 $2\"\nshift 2\nexec \"$@\"\n", mode: 0o755)
        sandbox.env.merge(Self.executorEnv) { $1 }
        sandbox.env["HADOOP_HOME"] = tree.path("hadoop")
        let result = try sandbox.run(shell, ["executor"])
        #expect(result.output == "tini -s --\n" + Self.executorOutput(
            java: "@/jdk", classpath: "@/spark/conf:/etc/hadoop::@/spark/jars/*:/extra/*:/hadoop/common/*:/hadoop/hdfs/*"))
        #expect(result.status == 0)
    }
}
