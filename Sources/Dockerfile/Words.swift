import Foundation

/// The lexical helpers of Docker's Dockerfile parser: they split an instruction's text
/// into words without expanding anything.
enum Words {
    /// The lines of a file, without a leading byte order mark; `\r\n` ends a line too.
    static func lines(_ text: String) -> [Substring] {
        let withoutBOM = text.hasPrefix("\u{FEFF}") ? text.dropFirst() : Substring(text)
        return withoutBOM.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    }

    /// Docker splits on these, not on every Unicode space.
    static func isBlank(_ ch: Character) -> Bool {
        ch == " " || ch == "\t" || ch == "\u{0B}" || ch == "\u{0C}" || ch == "\r"
    }

    static func trimmed(_ text: some StringProtocol) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
              let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(text[first...last])
    }

    /// Whitespace-separated words, quotes not special (FROM, EXPOSE, COPY shell form).
    static func split(_ text: String) -> [String] {
        text.split(whereSeparator: isBlank).map(String.init)
    }

    /// The first word and the trimmed rest.
    static func splitFirst(_ text: String) -> (String, String) {
        let text = trimmed(text)
        guard let end = text.firstIndex(where: isBlank) else { return (text, "") }
        return (String(text[..<end]), trimmed(text[end...]))
    }

    /// A JSON array of strings, `nil` when the text is not a JSON array at all (Docker then
    /// falls back to the shell form), and an error for arrays of anything but strings.
    static func jsonStrings(_ text: String) throws(Problem) -> [String]? {
        guard text.drop(while: \.isWhitespace).first == "[",
              let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any]
        else { return nil }
        let strings = array.compactMap { $0 as? String }
        guard strings.count == array.count else {
            throw Problem("when using JSON array syntax, arrays must be comprised of strings only")
        }
        return strings
    }

    /// Words separated by whitespace outside quotes, keeping quotes and escapes in place
    /// for the later expansion (ARG, ENV and LABEL).
    static func quoted(_ text: String, escape: Character) -> [String] {
        var scanner = QuotedWordScanner(chars: Array(text), escape: escape)
        return scanner.scan()
    }

    /// Leading `--name[=value]` words and the rest of the line. Quotes and backslashes
    /// inside flags are resolved here, as Docker does.
    static func leadingFlags(_ text: String) -> (flags: [String], rest: String) {
        var scanner = FlagScanner(chars: Array(text))
        return scanner.scan()
    }
}

/// Docker's `parseWords`: quotes group words but stay in the word.
private struct QuotedWordScanner {
    let chars: [Character]
    let escape: Character
    var pos = 0
    var words: [String] = []
    var word = ""
    var hasQuotes = false

    mutating func scan() -> [String] {
        while pos < chars.count {
            let ch = chars[pos]
            pos += 1
            if ch.isWhitespace {
                endWord()
            } else if ch == "'" || ch == "\"" {
                word.append(ch)
                hasQuotes = true
                quoted(by: ch)
            } else {
                appendEscaped(ch)
            }
        }
        endWord()
        return words
    }

    private mutating func quoted(by quote: Character) {
        while pos < chars.count {
            let ch = chars[pos]
            pos += 1
            if ch == quote {
                word.append(ch)
                return
            }
            // Nothing can be escaped inside single quotes.
            if quote == "'" { word.append(ch) } else { appendEscaped(ch) }
        }
    }

    /// Keeps the escape and the character after it, so expansion sees both.
    private mutating func appendEscaped(_ ch: Character) {
        guard ch == escape else {
            word.append(ch)
            return
        }
        guard pos < chars.count else { return }
        word.append(ch)
        word.append(chars[pos])
        pos += 1
    }

    private mutating func endWord() {
        if !word.isEmpty || hasQuotes { words.append(word) }
        word = ""
        hasQuotes = false
    }
}

/// Docker's `extractBuilderFlags`.
private struct FlagScanner {
    let chars: [Character]
    var pos = 0

    mutating func scan() -> (flags: [String], rest: String) {
        var flags: [String] = []
        while true {
            while pos < chars.count, chars[pos].isWhitespace { pos += 1 }
            guard pos + 1 < chars.count, chars[pos] == "-", chars[pos + 1] == "-" else { break }
            let word = flagWord()
            if word == "--" { break }
            flags.append(word)
        }
        return (flags, Words.trimmed(String(chars[pos...])))
    }

    private mutating func flagWord() -> String {
        var word = ""
        var quote: Character?
        while pos < chars.count {
            var ch = chars[pos]
            pos += 1
            if quote == nil, ch.isWhitespace { break }
            if ch == quote {
                quote = nil
                continue
            }
            if quote == nil, ch == "'" || ch == "\"" {
                quote = ch
                continue
            }
            if ch == "\\" {
                guard pos < chars.count else { break }
                ch = chars[pos]
                pos += 1
            }
            word.append(ch)
        }
        return word
    }
}
