import Foundation
import Testing
@testable import Spark

/// Runs our entrypoint.sh under each shell it must work with, in each of its modes, with fake
/// spark-submit, java, hadoop and tini scripts that print their argv one argument per line.
@Suite struct EntrypointTests {
    static let shells: [[String]] = [["sh"], ["bash"], ["busybox", "sh"]]

    /// `[arg]` per line, so that spaces and empty arguments show.
    static let printArgs = "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n"

    /// Runs entrypoint.sh with `args` under `shell` in a fresh sandbox: SPARK_HOME has a fake
    /// spark-submit, `@/jdk` a fake java, and `@/path` (first on PATH) is for `setUp` to fill.
    /// In the output, `@` stands for the sandbox. Nil (and a note) when the shell is missing.
    static func run(
        _ shell: [String], _ args: [String], env extra: [String: String] = [:],
        setUp: (TempTree) throws -> Void = { _ in }
    ) throws -> (status: Int32, output: String)? {
        guard ["/usr/bin/", "/bin/"].contains(where: { FileManager.default.isExecutableFile(atPath: $0 + shell[0]) }) else {
            print("SKIPPED: \(shell[0]) is not installed")
            return nil
        }
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.file("entrypoint.sh", DefaultDockerfiles.entrypoint.text, mode: 0o755)
        try tree.file("spark/bin/spark-submit", printArgs, mode: 0o755)
        try tree.file("jdk/bin/java", printArgs, mode: 0o755)
        try tree.dir("path")
        try setUp(tree)
        let env = ["PATH": tree.path("path") + ":/usr/bin:/bin", "SPARK_HOME": tree.path("spark")]
            .merging(extra.mapValues { $0.replacingOccurrences(of: "@", with: tree.root) }) { $1 }

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

    @Test(arguments: shells)
    func passThrough(shell: [String]) throws {
        guard let result = try Self.run(shell, ["printf", "<%s>", "a b", "", "c"]) else { return }
        #expect(result.output == "Non-spark-on-k8s command provided, proceeding in pass-through mode...\n<a b><><c>")
        #expect(result.status == 0)
    }

    @Test(arguments: shells)
    func driver(shell: [String]) throws {
        guard let result = try Self.run(shell, ["driver", "--class", "org.example.Main", "local:///app with space.jar", "*"],
                                        env: ["SPARK_DRIVER_BIND_ADDRESS": "10.1.2.3"]) else { return }
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

    static func executorOutput(classpath: String) -> String {
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
        let env = Self.executorEnv.merging(["JAVA_HOME": "@/jdk", "SPARK_CONF_DIR": "/conf", "SPARK_DIST_CLASSPATH": "/dist/*"]) { $1 }
        guard let result = try Self.run(shell, ["executor"], env: env) else { return }
        #expect(result.output == Self.executorOutput(classpath: "/conf:/etc/hadoop::@/spark/jars/*:/extra/*:/dist/*"))
        #expect(result.status == 0)
    }

    /// Without JAVA_HOME, java.home comes from `java -XshowSettings:properties`; with HADOOP_HOME,
    /// SPARK_DIST_CLASSPATH comes from `hadoop classpath`; tini on PATH runs the command.
    @Test(arguments: shells)
    func executorDiscoversJavaHadoopAndTini(shell: [String]) throws {
        let env = Self.executorEnv.merging(["HADOOP_HOME": "@/hadoop"]) { $1 }
        guard let result = try Self.run(shell, ["executor"], env: env, setUp: { tree in
            try tree.file("path/java", """
                #!/bin/sh
                echo "Property settings:" >&2
                echo "    java.class.path = " >&2
                echo "    java.home = \(tree.path("jdk"))" >&2
                echo 'openjdk version "17.0.2"' >&2
                """, mode: 0o755)
            try tree.file("hadoop/bin/hadoop", "#!/bin/sh\n[ \"$1\" = classpath ] && echo '/hadoop/common/*:/hadoop/hdfs/*'\n", mode: 0o755)
            try tree.file("path/tini", "#!/bin/sh\necho \"tini $1 $2\"\nshift 2\nexec \"$@\"\n", mode: 0o755)
        }) else { return }
        #expect(result.output == "tini -s --\n" + Self.executorOutput(classpath: "@/spark/conf:/etc/hadoop::@/spark/jars/*:/extra/*:/hadoop/common/*:/hadoop/hdfs/*"))
        #expect(result.status == 0)
    }
}

/// decom.sh finds the executor JVM through /proc, sends it SIGPWR and waits for it to exit.
/// Each run has a PID namespace and a /proc of its own (`unshare`), so decom.sh sees only the
/// stand-in JVM that run started: never another test run's on the same machine.
@Suite struct DecomTests {
    /// Runs under /bin/sh as PID 1 of the namespace: `$1` decom.sh, `$2` `jvm` or `none`, then
    /// the shell for decom.sh. The stand-in JVM's command line names the executor backend (built
    /// from two halves, so that this script's own command line does not); SIGPWR makes it exit 0,
    /// and it creates `$3` once its trap is set.
    static let runner = #"""
        decom=$1 jvm=$2 ready=$3
        shift 3
        if [ "$jvm" = jvm ]; then
          backend=org.apache.spark.scheduler.cluster.k8s.Kubernetes
          sh -c 'trap "exit 0" PWR; : >"$0"; while :; do sleep 0.05; done' "$ready" java "${backend}ExecutorBackend" &
          pid=$!
          tries=0
          while [ ! -e "$ready" ] && [ "$tries" -lt 1000 ]; do sleep 0.01; tries=$((tries + 1)); done
          echo "jvm $pid"
        fi
        "$@" "$decom"
        echo "decom exit $?"
        [ "$jvm" != jvm ] || { wait "$pid"; echo "jvm exit $?"; }
        """#

    /// decom.sh under `shell` in a new PID namespace, with the stand-in JVM or without.
    /// Nil (and a note) when the shell is missing.
    static func runIsolated(_ shell: [String], withJVM: Bool) throws -> String? {
        guard ["/usr/bin/", "/bin/"].contains(where: { FileManager.default.isExecutableFile(atPath: $0 + shell[0]) }) else {
            print("SKIPPED: \(shell[0]) is not installed")
            return nil
        }
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.file("decom.sh", DefaultDockerfiles.decom.text, mode: 0o755)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        // A user namespace too, so that it works without root.
        process.arguments = ["--user", "--map-root-user", "--pid", "--fork", "--mount-proc", "/bin/sh", "-c", runner, "runner",
                             tree.path("decom.sh"), withJVM ? "jvm" : "none", tree.path("ready")] + shell
        process.environment = ["PATH": "/usr/bin:/bin", "SPARK_DECOM_TIMEOUT": "10"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "unshare: \(output)")
        return output
    }

    @Test(arguments: EntrypointTests.shells)
    func decommissionsTheExecutor(shell: [String]) throws {
        guard let output = try Self.runIsolated(shell, withJVM: true) else { return }
        let pid = try #require(output.split(separator: "\n").first { $0.hasPrefix("jvm ") }?.dropFirst(4), "\(shell): \(output)")
        #expect(output.contains("Asking executor JVM \(pid) to decommission"), "\(shell): \(output)")
        #expect(output.contains("Done"), "\(shell): \(output)")
        #expect(!output.contains("No such file") && !output.contains("no such file"), "\(shell): \(output)")
        #expect(output.contains("jvm exit 0"), "\(shell): the JVM did not exit on SIGPWR: \(output)")
        #expect(output.contains("decom exit 0"), "\(shell): \(output)")
    }

    /// A stand-in JVM outside the namespace (another run's) is neither found nor signalled: the
    /// check above fails when its own JVM is not there.
    @Test(arguments: EntrypointTests.shells)
    func findsNoExecutorOutsideItsNamespace(shell: [String]) throws {
        let tree = try TempTree()
        defer { tree.remove() }
        let outsider = Process()
        outsider.executableURL = URL(fileURLWithPath: "/bin/sh")
        outsider.arguments = ["-c", "trap 'exit 0' PWR; : >\"$0\"; while :; do sleep 0.05; done", tree.path("ready"), "java",
                              "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend"]
        try outsider.run()
        defer { outsider.terminate(); outsider.waitUntilExit() }
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: tree.path("ready")) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }

        guard let output = try Self.runIsolated(shell, withJVM: false) else { return }
        #expect(output.contains("No executor JVM found"), "\(shell): \(output)")
        #expect(!output.contains("Asking executor JVM"), "\(shell): \(output)")
        #expect(outsider.isRunning, "\(shell): decom.sh signalled a process outside its namespace")
    }
}
