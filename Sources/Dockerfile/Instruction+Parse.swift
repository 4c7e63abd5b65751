extension Instruction {
    /// Parses one logical line (continuations already joined), checking everything that
    /// does not depend on variables, so mistakes show up before any build starts.
    static func parse(_ text: String, line: Int, escape: Character, heredocs: [Heredoc] = []) throws(Problem) -> Instruction {
        let (word, rest) = Words.splitFirst(text)
        let keyword = try Keyword.named(word)
        let (flagWords, body) = Words.leadingFlags(rest)
        let flags = try FlagKind.parse(flagWords, for: keyword)
        let (arguments, isJSON) = try splitArguments(body, for: keyword, escape: escape)
        let instruction = Instruction(
            keyword: keyword, line: line, flags: flags, arguments: arguments, isJSON: isJSON, heredocs: heredocs)
        try instruction.validate()
        return instruction
    }

    private static func splitArguments(
        _ body: String, for keyword: Keyword, escape: Character
    ) throws(Problem) -> ([String], Bool) {
        let whole = body.isEmpty ? [] : [body]
        switch keyword {
        case .from, .expose:
            return (Words.split(body), false)
        case .copy, .add, .volume:
            if let json = try Words.jsonStrings(body) { return (json, true) }
            return (Words.split(body), false)
        case .cmd, .entrypoint, .shell, .run:
            if let json = try Words.jsonStrings(body) { return (json, true) }
            return (whole, false)
        case .env, .label:
            return (try nameValuePairs(body, keyword: keyword, escape: escape), false)
        case .arg:
            return (Words.quoted(body, escape: escape), false)
        case .user, .workdir, .stopSignal, .maintainer:
            return (whole, false)
        case .healthcheck:
            let (type, command) = Words.splitFirst(body)
            if let json = try Words.jsonStrings(command) { return ([type] + json, true) }
            return ([type, command].filter { !$0.isEmpty }, false)
        }
    }

    /// `name=value ...`, or the legacy `name value` where the value is the rest of the line.
    private static func nameValuePairs(
        _ body: String, keyword: Keyword, escape: Character
    ) throws(Problem) -> [String] {
        let words = Words.quoted(body, escape: escape)
        guard let first = words.first else { return [] }
        guard first.contains("=") else {
            let (name, value) = Words.splitFirst(body)
            guard !value.isEmpty else {
                throw Problem("\(keyword.rawValue) must have two arguments", hint: "write \(keyword.rawValue) name=value")
            }
            return [name, value]
        }
        var pairs: [String] = []
        for word in words {
            guard let equals = word.firstIndex(of: "=") else {
                throw Problem("Syntax error - can't find = in \"\(word)\". Must be of the form: name=value")
            }
            pairs += [String(word[..<equals]), String(word[word.index(after: equals)...])]
        }
        return pairs
    }

    private func validate() throws(Problem) {
        let name = keyword.rawValue
        switch keyword {
        case .from:
            try validateFrom()
        case .arg:
            try requireArguments()
            for word in arguments { try ArgDeclaration.validate(word) }
        case .env, .label:
            try requireArguments()
            guard stride(from: 0, to: arguments.count, by: 2).allSatisfy({ !arguments[$0].isEmpty }) else {
                throw Problem("\(name) names can not be blank")
            }
        case .expose, .volume, .run:
            try requireArguments()
        case .copy, .add:
            try validateCopy()
        case .user, .workdir, .stopSignal, .maintainer:
            guard arguments.count == 1 else { throw Problem("\(name) requires exactly one argument") }
        case .shell:
            try requireArguments()
            guard isJSON else {
                throw Problem("SHELL requires the arguments to be in JSON form", hint: #"for example SHELL ["/bin/bash", "-c"]"#)
            }
        case .healthcheck:
            _ = try Healthcheck(self)
        case .cmd, .entrypoint:
            break
        }
    }

    private func requireArguments() throws(Problem) {
        guard !arguments.isEmpty else { throw Problem("\(keyword.rawValue) requires at least one argument") }
    }

    private func validateFrom() throws(Problem) {
        guard arguments.count == 1 || (arguments.count == 3 && arguments[1].lowercased() == "as") else {
            throw Problem("FROM requires either one or three arguments", hint: "write FROM image [AS name]")
        }
        guard let name = stageName else { return }
        let valid = name.first.map { $0.isASCII && $0.isLetter } == true
            && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "-_.".contains($0) }
        guard valid else {
            throw Problem("invalid name for build stage: \"\(arguments[2])\", name can't start with a number or contain symbols")
        }
    }

    private func validateCopy() throws(Problem) {
        let name = keyword.rawValue
        guard arguments.count >= 2 else {
            throw Problem("\(name) requires at least two arguments, but only one was provided. Destination could not be determined.")
        }
        if !isJSON, arguments.contains(where: { $0.hasPrefix("<<") && $0.count > 2 }) {
            throw Problem("heredocs are not supported in \(name)", hint: "put the content in a file in the build context and \(name) that file")
        }
    }
}

extension Keyword {
    /// The keyword for an instruction word, in any case; ONBUILD and unknown words are errors.
    static func named(_ word: String) throws(Problem) -> Keyword {
        let upper = word.uppercased()
        if let keyword = Keyword(rawValue: upper) { return keyword }
        switch upper {
        case "ONBUILD":
            throw Problem("ONBUILD is not supported", hint: "write the instructions into the Dockerfile that builds on this image")
        default:
            let known = allCases.map(\.rawValue) + ["ONBUILD"]
            throw Problem("unknown instruction: \(word)", hint: Suggestion.closest(to: upper, among: known).map { "did you mean \($0)?" })
        }
    }
}

/// How a flag takes its value, as in Docker's BFlags.
enum FlagKind: Equatable {
    case string, strings, bool
    case unsupported(hint: String)

    static func kinds(for keyword: Keyword) -> [String: FlagKind] {
        let copy: [String: FlagKind] = ["chown": .string, "chmod": .string, "link": .bool, "exclude": .strings]
        switch keyword {
        case .from:
            return ["platform": .string]
        case .copy:
            return copy.merging(["from": .string]) { $1 }
        case .add:
            return copy.merging([
                "checksum": .unsupported(hint: "download and verify the file before the build, then COPY it from the build context"),
                "keep-git-dir": .unsupported(hint: "clone the repository before the build, then COPY it from the build context"),
            ]) { $1 }
        case .run:
            return [
                "network": .string, "mount": .strings,
                "security": .unsupported(hint: "RUN runs without extra privileges here; drop --security"),
            ]
        case .healthcheck:
            return ["interval": .string, "timeout": .string, "start-period": .string, "start-interval": .string, "retries": .string]
        default:
            return [:]
        }
    }

    /// Checks `--name[=value]` words against what the keyword accepts.
    static func parse(_ words: [String], for keyword: Keyword) throws(Problem) -> [Flag] {
        let kinds = kinds(for: keyword)
        var flags: [Flag] = []
        for word in words {
            let text = word.dropFirst(2)
            let equals = text.firstIndex(of: "=")
            let flag = Flag(name: String(text[..<(equals ?? text.endIndex)]), value: equals.map { String(text[text.index(after: $0)...]) })
            guard let kind = kinds[flag.name] else {
                let suggestion = Suggestion.closest(to: flag.name, among: kinds.keys.sorted())
                throw Problem("unknown flag: --\(flag.name)", hint: suggestion.map { "did you mean --\($0)?" })
            }
            if kind != .strings, flags.contains(where: { $0.name == flag.name }) {
                throw Problem("duplicate flag specified: --\(flag.name)")
            }
            try kind.check(flag, keyword: keyword)
            flags.append(flag)
        }
        return flags
    }

    private func check(_ flag: Flag, keyword: Keyword) throws(Problem) {
        switch self {
        case .string, .strings:
            guard flag.value != nil else { throw Problem("missing a value on flag: --\(flag.name)") }
        case .bool:
            guard let value = flag.value else { return }
            guard ["true", "false"].contains(value.lowercased()) else {
                throw Problem("expecting boolean value for flag --\(flag.name), not: \(value)")
            }
        case .unsupported(let hint):
            throw Problem("\(keyword.rawValue) --\(flag.name) is not supported", hint: hint)
        }
    }
}

/// One `name[=default]` word of an ARG instruction.
struct ArgDeclaration: Equatable {
    var name: String
    var defaultValue: String?

    init(_ word: String) {
        let equals = word.firstIndex(of: "=")
        name = String(word[..<(equals ?? word.endIndex)])
        defaultValue = equals.map { String(word[word.index(after: $0)...]) }
    }

    /// Stricter than Docker, which accepts any name but can never expand a name like `a-b`.
    static func validate(_ word: String) throws(Problem) {
        let name = ArgDeclaration(word).name
        let valid = name.first.map { !$0.isNumber } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard valid else {
            throw Problem("invalid ARG name \"\(name)\"", hint: "ARG names are letters, digits and underscores and do not start with a digit")
        }
    }
}

enum Suggestion {
    /// The candidate closest to `word` when it is at most two edits away.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let target = Array(word.lowercased())
        let scored = candidates.map { ($0, distance(target, Array($0.lowercased()))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    /// Edit distance counting a swap of neighbours as one edit (optimal string alignment),
    /// so `chwon` is closer to `chown` than to `chmod`.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var d = (0...a.count).map { i in (0...b.count).map { j in i == 0 ? j : (j == 0 ? i : 0) } }
        for i in a.indices {
            for j in b.indices {
                d[i + 1][j + 1] = min(d[i][j + 1] + 1, d[i + 1][j] + 1, d[i][j] + (a[i] == b[j] ? 0 : 1))
                if i > 0, j > 0, a[i] == b[j - 1], a[i - 1] == b[j] {
                    d[i + 1][j + 1] = min(d[i + 1][j + 1], d[i - 1][j - 1] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
