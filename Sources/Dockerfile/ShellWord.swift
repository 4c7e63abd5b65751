/// Docker's shell-word expansion (its `shell.Lex`): quotes, escapes and `$VAR`,
/// `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`.
struct ShellWord {
    let escape: Character
    let variables: [String: String]

    /// The word with quotes removed and variables replaced; whitespace is kept.
    func expand(_ text: String) throws(Problem) -> String {
        try run(text).text
    }

    /// Like `expand`, then split into words at whitespace that is neither quoted nor escaped
    /// (whitespace inside variable values splits too).
    func split(_ text: String) throws(Problem) -> [String] {
        try run(text).words
    }

    private func run(_ text: String) throws(Problem) -> ExpandedText {
        var lexer = ShellLexer(chars: Array(text), escape: escape, variables: variables)
        guard let result = try lexer.process(until: nil) else {
            preconditionFailure("without a stop character the lexer always finishes")
        }
        return result
    }
}

struct ExpandedText {
    var text = ""
    var words: [String] = []
}

private struct ShellLexer {
    let chars: [Character]
    let escape: Character
    let variables: [String: String]
    var pos = 0

    private var current: Character? { pos < chars.count ? chars[pos] : nil }

    private mutating func next() -> Character? {
        defer { pos += 1 }
        return current
    }

    /// Reads up to `stop` (consumed) or the end; `nil` when `stop` never came.
    mutating func process(until stop: Character?) throws(Problem) -> ExpandedText? {
        var text = ""
        var words = WordSplitter()
        while let ch = current {
            if ch == stop {
                pos += 1
                return ExpandedText(text: text, words: words.finish())
            }
            switch ch {
            case "$":
                let value = try dollar()
                text += value
                value.forEach { words.add($0) }
            case "'", "\"":
                let value = ch == "'" ? try singleQuoted() : try doubleQuoted()
                text += value
                words.addQuoted(value)
            default:
                pos += 1
                // An escaped character is taken literally; a trailing escape is dropped.
                if ch == escape {
                    guard let literal = next() else { break }
                    text.append(literal)
                    words.addQuoted(String(literal))
                } else {
                    text.append(ch)
                    words.add(ch)
                }
            }
        }
        return stop == nil ? ExpandedText(text: text, words: words.finish()) : nil
    }

    private mutating func singleQuoted() throws(Problem) -> String {
        pos += 1
        var value = ""
        while let ch = next() {
            if ch == "'" { return value }
            value.append(ch)
        }
        throw Problem("missing closing single quote")
    }

    /// Inside double quotes only `"`, `$` and the escape character itself can be escaped.
    private mutating func doubleQuoted() throws(Problem) -> String {
        pos += 1
        var value = ""
        while let ch = current {
            if ch == "$" {
                value += try dollar()
                continue
            }
            pos += 1
            if ch == "\"" { return value }
            if ch == escape, let escaped = current, escaped == "\"" || escaped == "$" || escaped == escape {
                pos += 1
                value.append(escaped)
            } else {
                value.append(ch)
            }
        }
        throw Problem("missing closing double quote")
    }

    private mutating func dollar() throws(Problem) -> String {
        let start = pos
        pos += 1
        guard current == "{" else {
            let name = readName()
            return name.isEmpty ? "$" : variables[name] ?? ""
        }
        pos += 1
        if let first = current, "{}:".contains(first) { throw badSubstitution(from: start) }
        let name = readName()
        switch next() {
        case "}":
            return variables[name] ?? ""
        case ":":
            guard let modifier = next() else { throw missingBrace(from: start) }
            guard modifier == "-" || modifier == "+" else { throw unsupported(":\(modifier)", from: start) }
            let word = try modifierWord(from: start)
            let value = variables[name] ?? ""
            return modifier == "-" ? (value.isEmpty ? word : value) : (value.isEmpty ? "" : word)
        case "-":
            let word = try modifierWord(from: start)
            return variables[name] ?? word
        case "+":
            let word = try modifierWord(from: start)
            return variables[name] == nil ? "" : word
        case nil:
            throw missingBrace(from: start)
        case let other?:
            throw unsupported(String(other), from: start)
        }
    }

    /// The `word` in `${VAR:-word}`: itself expanded, up to the closing brace.
    private mutating func modifierWord(from start: Int) throws(Problem) -> String {
        guard let word = try process(until: "}") else { throw missingBrace(from: start) }
        return word.text
    }

    /// A variable name, a run of digits (positional) or one special parameter character.
    private mutating func readName() -> String {
        guard let first = current else { return "" }
        if first.isASCII, first.isNumber {
            return take { $0.isASCII && $0.isNumber }
        }
        if "@*#?-$!".contains(first) {
            pos += 1
            return String(first)
        }
        return take { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    private mutating func take(while predicate: (Character) -> Bool) -> String {
        var taken = ""
        while let ch = current, predicate(ch) {
            taken.append(ch)
            pos += 1
        }
        return taken
    }

    /// The `${...}` being read, for error messages.
    private func reference(from start: Int) -> String {
        let end = chars[start...].firstIndex(of: "}").map { $0 + 1 } ?? chars.count
        return String(chars[start..<end])
    }

    private func missingBrace(from start: Int) -> Problem {
        Problem("syntax error: missing '}' in \"\(reference(from: start))\"")
    }

    private func badSubstitution(from start: Int) -> Problem {
        Problem("syntax error: bad substitution \"\(reference(from: start))\"")
    }

    private func unsupported(_ modifier: String, from start: Int) -> Problem {
        Problem(
            "unsupported modifier \"\(modifier)\" in \"\(reference(from: start))\"",
            hint: "supported forms are $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alternative} and ${VAR+alternative}")
    }
}

/// Docker's word splitting: unquoted whitespace ends a word; quoted text never splits.
private struct WordSplitter {
    private var words: [String] = []
    private var word = ""
    private var inWord = false

    mutating func add(_ ch: Character) {
        guard ch.isWhitespace else {
            addQuoted(String(ch))
            return
        }
        guard inWord, !word.isEmpty else { return }
        words.append(word)
        word = ""
        inWord = false
    }

    mutating func addQuoted(_ text: String) {
        word += text
        inWord = true
    }

    mutating func finish() -> [String] {
        word.isEmpty ? words : words + [word]
    }
}
