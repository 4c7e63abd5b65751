import Foundation

/// The package root, found from this file's location (Tests/IntegrationTests/Support/Binary.swift).
enum PackageRoot {
    static let url: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // Support
        .deletingLastPathComponent() // IntegrationTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent()
}

struct BinaryNotBuilt: Error, CustomStringConvertible {
    var looked: [String]
    var description: String {
        "spark-image-tool is not built (looked at \(looked.joined(separator: ", "))); run `swift build` or scripts/test.sh"
    }
}

/// The built `spark-image-tool` executable.
enum Binary {
    static let name = "spark-image-tool"

    /// `$SIT_BIN_PATH/spark-image-tool` (scripts/test.sh sets it from `swift build --show-bin-path`),
    /// else the directory of the running test bundle (the same build products dir), else
    /// `.build/debug/spark-image-tool` below the package root.
    static func path() throws -> String {
        var candidates: [String] = []
        if let bin = ProcessInfo.processInfo.environment["SIT_BIN_PATH"], !bin.isEmpty {
            candidates.append("\(bin)/\(name)")
        }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        // Linux: .build/<triple>/debug/spark-image-toolPackageTests.xctest
        candidates.append(testBinary.deletingLastPathComponent().appending(path: name).path)
        // macOS: …/debug/spark-image-toolPackageTests.xctest/Contents/MacOS/…
        candidates.append(testBinary.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appending(path: name).path)
        candidates.append(PackageRoot.url.appending(path: ".build/debug/\(name)").path)
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw BinaryNotBuilt(looked: candidates)
    }

    /// Runs the tool with `arguments`.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: Data? = nil,
        currentDirectory: URL? = nil,
        timeout: Duration = .seconds(600)
    ) throws -> CommandResult {
        try Command.run(try path(), arguments, environment: environment, stdin: stdin,
                        currentDirectory: currentDirectory, timeout: timeout)
    }
}
