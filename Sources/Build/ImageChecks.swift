import OCI
import Spark
import Store

/// What an image needs to run Spark, checked from its file tree and config without starting a
/// container: the warnings a build prints (errors with --strict) and `check` reports.
public struct ImageCheck: Codable, Sendable, Equatable {
    public var problem: String
    public var fix: String

    public var description: String { "\(problem)\n  hint: \(fix)" }
}

/// The facts the checks read: every path of the final tree (relative, as in tar) and the
/// image's /etc/passwd, if any.
struct ImageFacts {
    var paths: Set<String>
    var config: ContainerConfig?
    var passwd: PasswdFile?

    struct PasswdFile: Codable, Sendable, Equatable {
        var text: String
        var mode: UInt32
    }

    /// `name` in a directory of the image's PATH (Docker's default PATH when it sets none).
    func onPath(_ name: String) -> Bool {
        let path = env("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        return path.split(separator: ":").contains { has("\($0)/\(name)") }
    }

    func env(_ name: String) -> String? {
        config?.env?.last { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    func has(_ absolute: String) -> Bool {
        paths.contains(String(absolute.drop { $0 == "/" }))
    }
}

enum ImageChecks {
    /// The interpreters an image variant runs besides Java.
    enum Needs: String, Sendable { case jvm, python, r }

    static func run(_ facts: ImageFacts, needs: Needs) -> [ImageCheck] {
        var found: [ImageCheck] = []
        let javaHome = facts.env("JAVA_HOME")
        if !facts.onPath("java") && !(javaHome.map { facts.has("\($0)/bin/java") } ?? false) {
            found.append(ImageCheck(problem: "the image has no java on PATH\(javaHome.map { " or under JAVA_HOME=\($0)" } ?? "")",
                                    fix: "build on a Java base (scripts/make-base-image.sh, eclipse-temurin:17-jre) with --base"))
        }
        if needs == .python && !facts.onPath("python3") {
            found.append(ImageCheck(problem: "spark-py has no python3 on PATH: PySpark jobs cannot start",
                                    fix: "use a base with python3 (scripts/make-base-image.sh --python), or install it in the base"))
        }
        if needs == .r && !facts.onPath("R") {
            found.append(ImageCheck(problem: "spark-r has no R on PATH: SparkR jobs cannot start",
                                    fix: "use a base with R (scripts/make-base-image.sh --r)"))
        }
        for (tool, why) in [("tini", "the entrypoint runs the driver and executors under it to reap zombies"),
                            ("ps", "executor decommissioning (decom.sh) looks for the JVM with it")] where !facts.onPath(tool) {
            found.append(ImageCheck(problem: "the image has no \(tool) on PATH: \(why)",
                                    fix: "add \(tool == "ps" ? "procps" : "tini") to the base image"))
        }
        if let problem = userProblem(facts) { found.append(problem) }
        return found
    }

    /// The image's USER needs a passwd entry (Java and Hadoop ask for the user name), or a
    /// group-writable /etc/passwd so the entrypoint can add one.
    private static func userProblem(_ facts: ImageFacts) -> ImageCheck? {
        let user = facts.config?.user.map { String($0.split(separator: ":", maxSplits: 1).first ?? "") } ?? ""
        guard !user.isEmpty, user != "root", user != "0" else { return nil }
        let entries = (facts.passwd?.text ?? "").split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
        let known = entries.contains { $0.count > 2 && ($0[0] == user || $0[2] == user) }
        let groupWritable = (facts.passwd?.mode ?? 0) & 0o020 != 0
        guard !known && !groupWritable else { return nil }
        return ImageCheck(problem: "user \(user) has no entry in /etc/passwd, and /etc/passwd is not group-writable for the entrypoint to add one",
                          fix: "add the user to the base (scripts/make-base-image.sh adds spark, uid 185), or make /etc/passwd group-writable as Spark's Dockerfile does")
    }
}

extension ImageChecks.Needs {
    init(_ variant: ImageVariant) {
        switch variant {
        case .spark: self = .jvm
        case .sparkPy: self = .python
        case .sparkR: self = .r
        }
    }

    /// From an image's name, as docker-image-tool.sh names them (`…/spark-py`, `…/spark-r`).
    init(repository: String) {
        let name = repository.split(separator: "/").last.map(String.init) ?? repository
        self.init(ImageVariant(rawValue: name) ?? .spark)
    }
}

/// `spark-image-tool check IMAGE`: the build's checks on any stored image.
public struct ImageChecker: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    public func check(_ reference: ImageReference, platform: Platform) throws -> [ImageCheck] {
        let descriptor = try store.image(reference, platform: platform).manifestDescriptor
        return try findings(ofManifest: descriptor.digest, needs: .init(repository: reference.repository))
    }

    /// Manifest digest → findings by needs: a rebuild that changed nothing checks nothing again.
    private static let findings = CacheShelf<[String: [ImageCheck]]>("image-checks", lifetime: .whileBlobExists)

    func findings(ofManifest digest: Digest, needs: ImageChecks.Needs) throws -> [ImageCheck] {
        var known = store.cached(Self.findings, key: digest.encoded) ?? [:]
        if let found = known[needs.rawValue] { return found }
        let image = try store.image(Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: 0))
        let found = ImageChecks.run(try ImageFacts(layers: image.manifest.layers, config: image.config.config, store: store), needs: needs)
        known[needs.rawValue] = found
        try store.remember(known, on: Self.findings, key: digest.encoded)
        return found
    }
}
