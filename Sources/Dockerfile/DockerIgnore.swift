/// A `.dockerignore` file as Docker reads it: `#` comment lines, `!` exceptions where the
/// last matching line wins, `**` across directories, and patterns cleaned with a leading
/// `/` removed. A path is excluded when it or one of its parent directories matches.
/// A malformed pattern is an error, as in Docker: skipping it would silently include files.
public struct DockerIgnore: Sendable {
    private struct Rule {
        var tokens: [GlobToken]
        var isException: Bool

        /// nil for comments and blank lines.
        init?(_ line: Substring) throws(Problem) {
            guard !line.hasPrefix("#") else { return nil }
            var pattern = Words.trimmed(line)
            isException = pattern.hasPrefix("!")
            if isException { pattern = Words.trimmed(pattern.dropFirst()) }
            guard !pattern.isEmpty else { return nil }
            pattern = PathSyntax.clean(pattern)
            if pattern.count > 1, pattern.hasPrefix("/") { pattern.removeFirst() }
            guard let tokens = GlobToken.parse(pattern, globstar: true) else {
                throw Problem("malformed pattern '\(Words.trimmed(line))'",
                              hint: "an unclosed '[' or a trailing '\\'; escape a literal '[' as '\\['")
            }
            self.tokens = tokens
        }

        func matches(_ path: [Character]) -> Bool {
            GlobToken.match(tokens[...], path[...])
        }
    }

    private let rules: [Rule]

    /// `file` names the ignore file in errors.
    public init(_ text: String, file: String = ".dockerignore") throws(DockerfileError) {
        var rules: [Rule] = []
        for (index, line) in Words.lines(text).enumerated() {
            do {
                if let rule = try Rule(line) { rules.append(rule) }
            } catch {
                throw error.at(file, line: index + 1)
            }
        }
        self.rules = rules
    }

    /// `relativePath` is relative to the build context, with `/` separators.
    public func excludes(_ relativePath: String) -> Bool {
        var path = PathSyntax.clean(relativePath)
        if path.count > 1, path.hasPrefix("/") { path.removeFirst() }
        let components = path.split(separator: "/")
        let candidates = (1...max(components.count, 1)).map { Array(components.prefix($0).joined(separator: "/")) }
        var excluded = false
        // Only a rule that could change the answer needs looking at.
        for rule in rules where rule.isException == excluded {
            if candidates.contains(where: rule.matches) { excluded = !rule.isException }
        }
        return excluded
    }
}
