/// A parsed Dockerfile: its instructions as written, in order, not yet expanded.
public struct Dockerfile: Sendable {
    public let file: String
    /// The escape character chosen by the `# escape=` directive (default `\`).
    public let escape: Character
    public let instructions: [Instruction]

    public static func parse(_ text: String, file: String) throws(DockerfileError) -> Dockerfile {
        let lines = Words.lines(text)
        let escape = try Directives.escape(in: lines, file: file)
        var instructions: [Instruction] = []
        for logical in try LogicalLine.join(lines, escape: escape, file: file) {
            do {
                instructions.append(try Instruction.parse(
                    logical.text, line: logical.number, escape: escape, heredocs: logical.heredocs))
            } catch {
                throw error.at(file, line: logical.number)
            }
        }
        try checkStages(instructions, file: file)
        return Dockerfile(file: file, escape: escape, instructions: instructions)
    }

    /// Only ARG may precede the first FROM, and stage names must be unique.
    private static func checkStages(_ instructions: [Instruction], file: String) throws(DockerfileError) {
        guard let first = instructions.first(where: { $0.keyword != .arg }) else {
            throw DockerfileError(
                file: file, line: instructions.first?.line ?? 1,
                message: instructions.isEmpty ? "file with no instructions" : "no FROM instruction",
                hint: "a Dockerfile needs at least one FROM line")
        }
        guard first.keyword == .from else {
            throw DockerfileError(
                file: file, line: first.line, message: "\(first.keyword.rawValue) before the first FROM",
                hint: "only ARG may come before the first FROM")
        }
        var seen: Set<String> = []
        for from in instructions where from.keyword == .from {
            guard let name = from.stageName else { continue }
            guard seen.insert(name).inserted else {
                throw DockerfileError(file: file, line: from.line, message: "duplicate stage name \"\(name)\"")
            }
        }
    }
}

extension Instruction {
    /// The lowercased name of a `FROM image AS name` stage.
    var stageName: String? {
        keyword == .from && arguments.count == 3 ? arguments[2].lowercased() : nil
    }
}

/// An instruction's text after joining continuation lines, with the line it starts on.
struct LogicalLine {
    var number: Int
    var text: String
    var heredocs: [Heredoc] = []

    /// Docker's rules: comment lines are dropped, also inside a continuation; blank lines
    /// inside a continuation are skipped; a continuation still open at the end of the file
    /// simply ends the instruction there.
    /// Heredoc bodies (`RUN <<EOF`) follow their instruction's last line and belong to it.
    static func join(_ lines: [Substring], escape: Character, file: String) throws(DockerfileError) -> [LogicalLine] {
        var result: [LogicalLine] = []
        var index = 0
        while index < lines.count {
            let start = index
            index += 1
            if isComment(lines[start]) { continue }
            var (text, continues) = trimContinuation(lines[start].drop(while: \.isWhitespace), escape: escape)
            while continues, index < lines.count {
                let next = lines[index]
                index += 1
                if isComment(next) || next.allSatisfy(\.isWhitespace) { continue }
                let (more, stillContinues) = trimContinuation(next, escape: escape)
                text += more
                continues = stillContinues
            }
            guard !text.allSatisfy(\.isWhitespace) else { continue }
            var heredocs: [Heredoc] = []
            for marker in HeredocMarker.markers(in: text) {
                do { heredocs.append(try marker.body(of: lines, from: &index)) } catch { throw error.at(file, line: start + 1) }
            }
            result.append(LogicalLine(number: start + 1, text: text, heredocs: heredocs))
        }
        return result
    }

    static func isComment(_ line: Substring) -> Bool {
        line.drop(while: \.isWhitespace).first == "#"
    }

    /// Strips an escape character (and trailing blanks after it) that ends the line.
    private static func trimContinuation(_ line: Substring, escape: Character) -> (String, Bool) {
        let content = line.reversed().drop { $0 == " " || $0 == "\t" }
        guard content.first == escape else { return (String(line), false) }
        return (String(content.dropFirst().reversed()), true)
    }
}

/// Parser directives: `# name=value` comment lines at the very top of the file.
enum Directives {
    static let known: Set<String> = ["syntax", "escape", "check"]

    static func escape(in lines: [Substring], file: String) throws(DockerfileError) -> Character {
        var escape: Character = "\\"
        var seen: Set<String> = []
        for (index, line) in lines.enumerated() {
            guard let (name, value) = directive(line), known.contains(name) else { break }
            let located = { (message: String) in DockerfileError(file: file, line: index + 1, message: message) }
            guard seen.insert(name).inserted else { throw located("only one \(name) parser directive can be used") }
            guard name == "escape" else { continue }
            guard value == "\\" || value == "`" else {
                throw located("invalid escape token '\(value)' does not match ` or \\")
            }
            escape = Character(value)
        }
        return escape
    }

    /// `#` then `name` `=` `value`, blanks allowed around each part; the name is lowercased.
    private static func directive(_ line: Substring) -> (String, String)? {
        let body = line.drop(while: \.isWhitespace)
        guard body.first == "#", let equals = body.firstIndex(of: "=") else { return nil }
        let name = Words.trimmed(body[body.index(after: body.startIndex)..<equals])
        let value = Words.trimmed(body[body.index(after: equals)...])
        guard let first = name.first, first.isASCII, first.isLetter,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }), !value.isEmpty
        else { return nil }
        return (name.lowercased(), value)
    }
}
