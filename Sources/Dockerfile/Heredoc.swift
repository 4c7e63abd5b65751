/// A here-document attached to an instruction (`RUN <<EOF`), as BuildKit's parser reads it.
public struct Heredoc: Sendable, Equatable {
    /// The delimiter word, without quotes.
    public var name: String
    /// The body: every line up to the delimiter line, each ending in `\n`; leading tabs
    /// already stripped for `<<-`.
    public var content: String
    /// False when the delimiter was quoted (`<<'EOF'`, `<<"EOF"`): the body is taken literally.
    public var expands: Bool

    public init(name: String, content: String, expands: Bool = true) {
        self.name = name
        self.content = content
        self.expands = expands
    }
}

/// The `<<[-]WORD` markers of one instruction line.
struct HeredocMarker: Equatable {
    var name: String
    var stripsTabs: Bool
    var expands: Bool

    /// Instructions whose lines may carry heredocs (BuildKit's list).
    static let keywords: Set<String> = ["RUN", "COPY", "ADD"]

    /// The markers on a line, in order; none for instructions that take no heredocs.
    static func markers(in text: String) -> [HeredocMarker] {
        let words = Words.split(text)
        guard let keyword = words.first, keywords.contains(keyword.uppercased()) else { return [] }
        return words.dropFirst().compactMap(marker)
    }

    /// `<<EOF`, `<<-EOF`, `<<'EOF'`, `<<"EOF"`; not `<<` alone nor a here-string `<<<`.
    private static func marker(_ word: String) -> HeredocMarker? {
        guard word.hasPrefix("<<"), !word.hasPrefix("<<<") else { return nil }
        var rest = word.dropFirst(2)
        let stripsTabs = rest.first == "-"
        if stripsTabs { rest = rest.dropFirst() }
        var expands = true
        if let quote = rest.first, quote == "'" || quote == "\"", rest.count >= 2, rest.last == quote {
            rest = rest.dropFirst().dropLast()
            expands = false
        }
        guard !rest.isEmpty, !rest.contains(where: { "<>'\"".contains($0) }) else { return nil }
        return HeredocMarker(name: String(rest), stripsTabs: stripsTabs, expands: expands)
    }

    /// Reads this marker's body from `lines` starting at `index`, which ends past the delimiter line.
    func body(of lines: [Substring], from index: inout Int) throws(Problem) -> Heredoc {
        var content = ""
        while index < lines.count {
            let raw = lines[index]
            index += 1
            let line = stripsTabs ? raw.drop { $0 == "\t" } : raw
            if line == name { return Heredoc(name: name, content: content, expands: expands) }
            content += line + "\n"
        }
        throw Problem("unterminated heredoc <<\(name)", hint: "end the heredoc with a line that holds only \(name)")
    }
}
