import Foundation
import Testing
@testable import Spark

/// The repository's dockerfiles/ directory, found from this file's path.
let dockerfilesDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("dockerfiles").path

@Suite struct DefaultDockerfilesTests {
    /// Fails when dockerfiles/ was changed without running scripts/embed-dockerfiles.sh.
    @Test func embeddedCopiesMatchTheRepository() throws {
        let names = try FileManager.default.subpathsOfDirectory(atPath: dockerfilesDirectory)
            .filter { !isDirectory(dockerfilesDirectory + "/" + $0) }
            .sorted()
        #expect(DefaultDockerfiles.files.map(\.path) == names, "run scripts/embed-dockerfiles.sh")
        for embedded in DefaultDockerfiles.files {
            let path = dockerfilesDirectory + "/" + embedded.path
            let bytes = try #require(FileManager.default.contents(atPath: path), "cannot read \(path)")
            let same = embedded.bytes == Array(bytes)
            #expect(same, "dockerfiles/\(embedded.path) differs from its embedded copy: run scripts/embed-dockerfiles.sh")
            let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect((mode & 0o111 != 0) == (embedded.mode == 0o755), "\(embedded.path) mode differs")
        }
    }

    @Test(arguments: ImageVariant.allCases)
    func dockerfileForVariant(variant: ImageVariant) {
        let text = DefaultDockerfiles.dockerfile(for: variant)
        #expect(text == DefaultDockerfiles.file(DefaultDockerfiles.path(for: variant)).text)
        #expect(text.contains("ENTRYPOINT [\"/opt/entrypoint.sh\"]"))
        #expect(text.contains("USER ${spark_uid}"))
        #expect(variant == .spark ? text.contains("FROM eclipse-temurin:${java_image_tag}") : text.contains("FROM $base_img"))
    }

    @Test func scriptsAreExecutable() {
        #expect(DefaultDockerfiles.entrypoint.mode == 0o755)
        #expect(DefaultDockerfiles.decom.mode == 0o755)
        #expect(DefaultDockerfiles.entrypoint.text.hasPrefix("#!/bin/sh\n"))
        #expect(DefaultDockerfiles.decom.text.hasPrefix("#!/bin/sh\n"))
    }

    /// Our builder runs no commands, so a RUN (or anything but these) would make the image unbuildable.
    @Test(arguments: ImageVariant.allCases)
    func onlyInstructionsWithoutRun(variant: ImageVariant) {
        let allowed: Set<String> = ["ARG", "FROM", "COPY", "ENV", "WORKDIR", "ENTRYPOINT", "USER"]
        for instruction in DockerfileLines(DefaultDockerfiles.dockerfile(for: variant)).instructions {
            #expect(allowed.contains(instruction.keyword), "\(instruction.keyword) in \(variant.rawValue)")
        }
    }

    /// Every non-wildcard COPY source of our Dockerfiles exists in the context of each layout;
    /// wildcard sources are optional by design.
    @Test(arguments: [DistributionKind.release, .sourceBuild, .pipPackage])
    func copySourcesExistInEveryLayout(kind: DistributionKind) throws {
        let tree = try TempTree()
        defer { tree.remove() }
        try tree.make(kind)
        if kind == .sourceBuild { try tree.files("python/lib/pyspark.zip", "R/lib/SparkR/DESCRIPTION") }
        let dist = try SparkDistribution.locate(home: tree.root)
        for variant in dist.variants {
            let lines = DockerfileLines(DefaultDockerfiles.dockerfile(for: variant))
            var args = lines.argDefaults.merging(dist.buildArgs) { $1 }
            args["SPARK_HOME"] = "/opt/spark"
            for copy in lines.instructions where copy.keyword == "COPY" {
                let words = copy.arguments.split(separator: " ").filter { !$0.hasPrefix("--") }.map(String.init)
                for source in words.dropLast() {
                    let path = expand(source, args)
                    if path.contains(where: { "*?[".contains($0) }) { continue }
                    let resolved = ContextMount.resolve(path, in: dist.mounts)
                    #expect(resolved != nil, "\(variant.rawValue): COPY \(path) is not in the \(kind) context")
                    if let disk = resolved?.diskPath {
                        #expect(FileManager.default.fileExists(atPath: disk), "\(variant.rawValue): \(disk) is missing")
                    }
                }
            }
        }
    }

    @Test func wildcardSourcesMatchTheOptionalDirectories() throws {
        let lines = DockerfileLines(DefaultDockerfiles.spark)
        let copies = lines.instructions.filter { $0.keyword == "COPY" }.map(\.arguments)
        #expect(copies.contains("${example_jars}* /opt/spark/examples/jars/"))
        #expect(copies.contains("${k8s_tests}* /opt/spark/tests/"))
        #expect(copies.contains("--chmod=0775 ${img_path}/spark/work-dir /opt/spark/work-dir"))
        #expect(lines.argDefaults == [
            "java_image_tag": "17-jre", "spark_uid": "185", "spark_jars": "jars",
            "img_path": "kubernetes/dockerfiles", "k8s_tests": "kubernetes/tests", "example_jars": "examples/jars",
        ])
    }
}

private func isDirectory(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
}

private func expand(_ word: String, _ args: [String: String]) -> String {
    var result = word
    for (name, value) in args {
        result = result.replacingOccurrences(of: "${\(name)}", with: value).replacingOccurrences(of: "$\(name)", with: value)
    }
    return result
}

/// Just enough of a Dockerfile reader for these checks (our files use no line continuations).
struct DockerfileLines {
    struct Instruction { var keyword: String; var arguments: String }
    var instructions: [Instruction] = []
    var argDefaults: [String: String] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.allSatisfy(\.isWhitespace) {
            let parts = line.split(separator: " ", maxSplits: 1)
            let instruction = Instruction(keyword: String(parts[0]).uppercased(), arguments: parts.count > 1 ? String(parts[1]) : "")
            instructions.append(instruction)
            if instruction.keyword == "ARG", let eq = instruction.arguments.firstIndex(of: "=") {
                argDefaults[String(instruction.arguments[..<eq])] = String(instruction.arguments[instruction.arguments.index(after: eq)...])
            }
        }
    }
}
