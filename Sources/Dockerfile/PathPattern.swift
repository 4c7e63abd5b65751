/// Go's `filepath.Match` on Unix, used for COPY source globs: `*` and `?` do not match
/// `/`, `[...]` classes (negated with `^`) may, and `\` escapes the next character.
/// A malformed pattern matches nothing.
public enum PathPattern {
    public static func hasMeta(_ s: String) -> Bool {
        s.contains { "*?[\\".contains($0) }
    }

    public static func matches(_ pattern: String, _ path: String) -> Bool {
        guard let tokens = GlobToken.parse(pattern, globstar: false) else { return false }
        return GlobToken.match(tokens[...], Array(path)[...])
    }
}

/// The pieces of a glob. `.dockerignore` adds `**`, which PathPattern does not know.
enum GlobToken {
    case literal(Character)
    /// `*`: any run of characters other than `/`.
    case anyRun
    /// `?`: one character other than `/`.
    case anyOne
    case characterClass(CharacterClass)
    /// `**` (or `**/`) before more pattern: nothing, or anything that ends with `/`.
    case anyDirectories
    /// `**` at the end: anything at all.
    case anything

    /// `nil` for a malformed pattern (an unfinished class or escape).
    static func parse(_ pattern: String, globstar: Bool) -> [GlobToken]? {
        var chars = Array(pattern)[...]
        var tokens: [GlobToken] = []
        while let ch = chars.popFirst() {
            switch ch {
            case "*" where globstar && chars.first == "*":
                chars.removeFirst()
                if chars.first == "/" { chars.removeFirst() }
                tokens.append(chars.isEmpty ? .anything : .anyDirectories)
            case "*":
                tokens.append(.anyRun)
            case "?":
                tokens.append(.anyOne)
            case "[":
                guard let set = CharacterClass.parse(&chars) else { return nil }
                tokens.append(.characterClass(set))
            case "\\":
                guard let escaped = chars.popFirst() else { return nil }
                tokens.append(.literal(escaped))
            default:
                tokens.append(.literal(ch))
            }
        }
        return tokens
    }

    /// Backtracking match of the whole path.
    static func match(_ tokens: ArraySlice<GlobToken>, _ path: ArraySlice<Character>) -> Bool {
        guard let token = tokens.first else { return path.isEmpty }
        let rest = tokens.dropFirst()
        switch token {
        case .literal(let expected):
            return path.first == expected && match(rest, path.dropFirst())
        case .anyOne:
            return path.first.map { $0 != "/" } == true && match(rest, path.dropFirst())
        case .characterClass(let set):
            return path.first.map(set.contains) == true && match(rest, path.dropFirst())
        case .anyRun:
            var remaining = path
            while !match(rest, remaining) {
                guard let first = remaining.first, first != "/" else { return false }
                remaining = remaining.dropFirst()
            }
            return true
        case .anyDirectories:
            return match(rest, path) || path.indices.contains { path[$0] == "/" && match(rest, path[($0 + 1)...]) }
        case .anything:
            return true
        }
    }
}

/// `[...]` with Go's rules: `^` negates, `a-z` ranges, `\` escapes, and `-` or `]`
/// must be escaped unless `]` closes a non-empty class.
struct CharacterClass {
    var negated: Bool
    var ranges: [(low: Character, high: Character)]

    func contains(_ ch: Character) -> Bool {
        ranges.contains { $0.low <= ch && ch <= $0.high } != negated
    }

    /// Reads after the `[` up to and including the `]`.
    static func parse(_ chars: inout ArraySlice<Character>) -> CharacterClass? {
        var set = CharacterClass(negated: chars.first == "^", ranges: [])
        if set.negated { chars.removeFirst() }
        while !(chars.first == "]" && !set.ranges.isEmpty) {
            guard let low = member(&chars) else { return nil }
            var high = low
            if chars.first == "-" {
                chars.removeFirst()
                guard let end = member(&chars) else { return nil }
                high = end
            }
            set.ranges.append((low, high))
        }
        chars.removeFirst()
        return set
    }

    /// One class member (Go's `getEsc`); the class must go on after it.
    private static func member(_ chars: inout ArraySlice<Character>) -> Character? {
        guard var ch = chars.popFirst(), ch != "-", ch != "]" else { return nil }
        if ch == "\\" {
            guard let escaped = chars.popFirst() else { return nil }
            ch = escaped
        }
        return chars.isEmpty ? nil : ch
    }
}
