/// A `.dockerignore` file as Docker reads it: `#` comment lines, `!` exceptions where the
/// last matching line wins, `**` across directories, and patterns cleaned with a leading
/// `/` removed. A path is excluded when it or one of its parent directories matches.
/// Malformed patterns are skipped (Docker refuses the build instead).
public struct DockerIgnore: Sendable {
    private struct Rule {
        var tokens: [GlobToken]
        var isException: Bool

        init?(_ line: Substring) {
            guard !line.hasPrefix("#") else { return nil }
            var pattern = Words.trimmed(line)
            isException = pattern.hasPrefix("!")
            if isException { pattern = Words.trimmed(pattern.dropFirst()) }
            guard !pattern.isEmpty else { return nil }
            pattern = PathSyntax.clean(pattern)
            if pattern.count > 1, pattern.hasPrefix("/") { pattern.removeFirst() }
            guard let tokens = GlobToken.parse(pattern, globstar: true) else { return nil }
            self.tokens = tokens
        }

        func matches(_ path: [Character]) -> Bool {
            GlobToken.match(tokens[...], path[...])
        }
    }

    private let rules: [Rule]

    public init(_ text: String) {
        rules = Words.lines(text).compactMap(Rule.init)
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
