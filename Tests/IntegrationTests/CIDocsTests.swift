import Foundation
import Testing

/// docs/ci.md's workflows must be valid YAML and use only options the tool has.
struct CIDocsTests {
    /// Debian's python3-yaml (scripts/bootstrap.sh) turns each block into JSON.
    static let yamlToJSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"

    static func yamlBlocks() throws -> [String] {
        let text = try String(contentsOf: PackageRoot.url.appending(path: "docs/ci.md"), encoding: .utf8)
        return text.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
    }

    static func parse(_ yaml: String) throws -> [String: Any] {
        let result = try Command.run("python3", ["-c", yamlToJSON], stdin: Data(yaml.utf8)).check()
        return try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any])
    }

    /// Every string in a parsed document (run: and script: entries among them).
    static func strings(in value: Any) -> [String] {
        switch value {
        case let text as String: [text]
        case let list as [Any]: list.flatMap(strings)
        case let map as [String: Any]: map.values.flatMap(strings)
        default: []
        }
    }

    /// Each `spark-image-tool …` command in a shell script: its subcommand words and its options.
    static func commands(in script: String) -> [(subcommand: [String], options: [String])] {
        let joined = script.replacingOccurrences(of: "\\\n", with: " ")
        return joined.split(separator: "\n").compactMap { line -> ([String], [String])? in
            guard let start = line.range(of: "spark-image-tool ") else { return nil }
            let words = line[start.upperBound...].split(separator: " ").map(String.init)
                .prefix { !["|", ">", ";", "&&", ")"].contains($0) }
            let subcommand = Array(words.prefix { $0.allSatisfy { $0.isLetter || $0 == "-" } && !$0.hasPrefix("-") }.prefix(2))
            return (subcommand, words.filter { $0.range(of: #"^--?[A-Za-z][A-Za-z-]*$"#, options: .regularExpression) != nil })
        }
    }

    static func helpMentions(_ help: String, _ option: String) -> Bool {
        let escaped = NSRegularExpression.escapedPattern(for: option)
        return help.range(of: #"(^|[\s,\[])"# + escaped + #"($|[\s,=\]<])"#, options: .regularExpression) != nil
    }

    @Test func bothWorkflowsAreValidYAMLWithTheExpectedJobs() throws {
        let blocks = try Self.yamlBlocks()
        #expect(blocks.count == 2, "a GitHub Actions workflow and a GitLab CI pipeline")
        guard blocks.count == 2 else { return }
        let github = try Self.parse(blocks[0])
        let jobs = try #require(github["jobs"] as? [String: Any])
        #expect(Set(jobs.keys) == ["build", "merge"])
        #expect((jobs["merge"] as? [String: Any])?["needs"] as? String == "build")
        let gitlab = try Self.parse(blocks[1])
        #expect(gitlab["stages"] as? [String] == ["build", "merge"])
        #expect((gitlab["merge"] as? [String: Any])?["needs"] as? [String] == ["build"])
        for document in [github, gitlab] {
            let scripts = Self.strings(in: document).joined(separator: "\n")
            #expect(scripts.contains("--push-by-digest") && scripts.contains("index create"), "push by digest, then merge")
        }
    }

    @Test func everyOptionTheWorkflowsUseExists() throws {
        var checked = 0
        for block in try Self.yamlBlocks() {
            for script in Self.strings(in: try Self.parse(block)) {
                for command in Self.commands(in: script) {
                    #expect(!command.subcommand.isEmpty, "\(script)")
                    let help = try Binary.run(["help"] + command.subcommand).check().stdout
                    for option in command.options {
                        #expect(Self.helpMentions(help, option), "`spark-image-tool \(command.subcommand.joined(separator: " "))` has no \(option)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 20, "the parser found the commands: \(checked) options")
    }

    @Test(arguments: [
        ("  -r <repo>   Repository", "-r", true),
        ("--push-by-digest  With --push", "--push-by-digest", true),
        ("--push  Push", "--push-by-digest", false),
        ("--registry-mirror <host>", "-r", false),
    ])
    func helpMatchesWholeOptionsOnly(help: String, option: String, found: Bool) {
        #expect(Self.helpMentions(help, option) == found)
    }
}
