import Foundation

/// One stage's state while its instructions are applied in order: the variables that
/// expansion sees, the working directory and the shell.
struct StageEvaluator {
    let escape: Character
    let index: Int
    let stageNames: [String?]
    let globals: [String: String]
    let buildArgs: [String: String]
    /// `os/arch[/variant]`, recorded in RUN steps.
    let platform: String
    private var env: [String: String]
    private var envSetHere: Set<String> = []
    private var args: [String: String] = [:]
    private var workdir: String
    private var shell: [String]
    private var user: String?
    private var cmdSet = false

    init(
        escape: Character, index: Int, stageNames: [String?], globals: [String: String],
        buildArgs: [String: String], platform: String, base: BaseState
    ) {
        self.platform = platform
        self.escape = escape
        self.index = index
        self.stageNames = stageNames
        self.globals = globals
        self.buildArgs = buildArgs
        env = Dictionary(base.env.map(Self.split), uniquingKeysWith: { $1 })
        workdir = PathSyntax.absolute(base.workingDir ?? "/", in: "/")
        shell = base.shell ?? ["/bin/sh", "-c"]
        user = base.user.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// What a RUN sees at this point: the variables in scope, the shell, user and working directory.
    var runScope: (variables: [String: String], shell: [String], user: String?, workdir: String) {
        (expander.variables, shell, user, workdir)
    }

    private static func split(_ entry: String) -> (String, String) {
        guard let equals = entry.firstIndex(of: "=") else { return (entry, "") }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }

    /// ENV set in this stage wins over ARG; ARG wins over the base image's environment.
    private var expander: ShellWord {
        var variables = env
        for (name, value) in args where !envSetHere.contains(name) { variables[name] = value }
        return ShellWord(escape: escape, variables: variables)
    }

    /// The history text and action of one instruction; `nil` for ARG.
    mutating func apply(_ instruction: Instruction) throws(Problem) -> (String, Action)? {
        let arguments = instruction.arguments
        switch instruction.keyword {
        case .from:
            preconditionFailure("FROM starts a new stage")
        case .arg:
            try declareArgs(arguments)
            return nil
        case .env:
            let pairs = try keyValues(arguments)
            for pair in pairs {
                env[pair.key] = pair.value
                envSetHere.insert(pair.key)
            }
            return ("ENV \(HistoryText.pairs(pairs))", .env(pairs))
        case .label:
            let pairs = try keyValues(arguments)
            return ("LABEL \(HistoryText.pairs(pairs))", .label(pairs))
        case .workdir:
            workdir = PathSyntax.absolute(try expander.expand(arguments[0]), in: workdir)
            return ("WORKDIR \(workdir)", .workdir(workdir))
        case .user:
            let user = try expander.expand(arguments[0])
            self.user = user
            return ("USER \(user)", .user(user))
        case .stopSignal:
            let signal = try expander.expand(arguments[0])
            return ("STOPSIGNAL \(signal)", .stopSignal(signal))
        case .maintainer:
            return ("MAINTAINER \(arguments[0])", .maintainer(arguments[0]))
        case .expose:
            let ports = try exposedPorts(arguments)
            return ("EXPOSE \(ports.joined(separator: " "))", .expose(ports))
        case .volume:
            let volumes = try expandAll(arguments)
            guard !volumes.contains("") else { throw Problem("VOLUME specified can not be an empty string") }
            return ("VOLUME \(HistoryText.json(volumes))", .volume(volumes))
        case .shell:
            shell = arguments
            return ("SHELL \(HistoryText.json(arguments))", .shell(arguments))
        case .cmd:
            cmdSet = true
            let command = command(instruction)
            return ("CMD \(HistoryText.json(command))", .cmd(command))
        case .entrypoint:
            let command = command(instruction)
            return ("ENTRYPOINT \(HistoryText.json(command))", .entrypoint(command, resetsCmd: !cmdSet))
        case .healthcheck:
            let check = try Healthcheck(instruction)
            return (HistoryText.healthcheck(check, flags: instruction.flags), .healthcheck(check))
        case .copy, .add:
            return try copy(instruction)
        case .run:
            return try run(instruction)
        }
    }

    private mutating func declareArgs(_ words: [String]) throws(Problem) {
        for word in words {
            let declaration = ArgDeclaration(word)
            let value = try declaration.value(buildArgs: buildArgs, expander: expander, inherited: globals[declaration.name])
            if let value { args[declaration.name] = value }
        }
    }

    private func expandAll(_ words: [String]) throws(Problem) -> [String] {
        let expander = expander
        var expanded: [String] = []
        for word in words { expanded.append(try expander.expand(word)) }
        return expanded
    }

    /// All pairs are expanded before any is set, so `ENV a=1 b=$a` sees the old `a`.
    private func keyValues(_ arguments: [String]) throws(Problem) -> [KeyValue] {
        let values = try expandAll(arguments)
        return stride(from: 0, to: values.count, by: 2).map { KeyValue(key: values[$0], value: values[$0 + 1]) }
    }

    /// Exec form as written; shell form wrapped in the current SHELL.
    private func command(_ instruction: Instruction) -> [String] {
        instruction.isJSON || instruction.arguments.isEmpty ? instruction.arguments : shell + instruction.arguments
    }

    private func exposedPorts(_ words: [String]) throws(Problem) -> [String] {
        var ports: [String] = []
        for word in words {
            for spec in try expander.split(word) {
                ports += try PortSpec.expand(spec).filter { !ports.contains($0) }
            }
        }
        return ports
    }
}

// MARK: - COPY and ADD

extension StageEvaluator {
    func expandedFlags(_ instruction: Instruction) throws(Problem) -> [Flag] {
        var flags: [Flag] = []
        for flag in instruction.flags {
            flags.append(Flag(name: flag.name, value: try flag.value.map(expander.expand)))
        }
        return flags
    }

    fileprivate func copy(_ instruction: Instruction) throws(Problem) -> (String, Action) {
        let keyword = instruction.keyword.rawValue
        let words = try expandAll(instruction.arguments)
        let expanded = Instruction(keyword: instruction.keyword, line: instruction.line, flags: try expandedFlags(instruction), arguments: words)
        let destination = words[words.count - 1]
        let isDirectory = destination.hasSuffix("/") || destination == "." || destination.isEmpty
        guard words.count == 2 || isDirectory else {
            throw Problem(
                "When using \(keyword) with more than one source file, the destination must be a directory and end with a /",
                hint: "add a trailing / to \(destination)")
        }
        let step = CopyStep(
            isAdd: instruction.keyword == .add, sources: Array(words.dropLast()),
            destination: PathSyntax.absolute(destination, in: workdir), destinationIsDirectory: isDirectory,
            from: try expanded.flag("from").map(copySource) ?? .context,
            chown: try expanded.flag("chown").map(Self.checkedChown),
            chmod: try expanded.flag("chmod").map(Self.octalMode),
            link: instruction.isSet("link"),
            excludes: expanded.flags.filter { $0.name == "exclude" }.compactMap(\.value))
        return (([keyword] + HistoryText.flags(expanded.flags) + words).joined(separator: " "), .copy(step))
    }

    /// A stage by (case-insensitive) name or index, which must come before this one; anything else is an image.
    func copySource(_ name: String) throws(Problem) -> CopySource {
        guard !name.isEmpty else { throw Problem("--from needs a stage name, a stage index or an image") }
        let byIndex = name.allSatisfy { $0.isASCII && $0.isNumber } ? Int(name) : nil
        guard let stage = stageNames.firstIndex(of: name.lowercased()) ?? byIndex else { return .image(name) }
        guard stage != index else { throw Problem("invalid from flag value \(name): refers to current build stage") }
        guard stage < index else {
            throw Problem(
                "invalid from flag value \(name): refers to a later build stage",
                hint: "a stage can only copy from the stages before it")
        }
        return .stage(stage)
    }

    private static func checkedChown(_ value: String) throws(Problem) -> String {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty }) else {
            throw Problem("invalid --chown value \"\(value)\"", hint: "use --chown=user or --chown=user:group, by name or number")
        }
        return value
    }

    private static func octalMode(_ value: String) throws(Problem) -> UInt32 {
        guard value.allSatisfy({ ("0"..."7").contains($0) }), let mode = UInt32(value, radix: 8), mode <= 0o7777 else {
            throw Problem("invalid --chmod value \"\(value)\"", hint: "use an octal mode between 0 and 7777, such as 0755")
        }
        return mode
    }
}

/// `port[-end][/protocol]` as EXPOSE takes it.
enum PortSpec {
    static func expand(_ spec: String) throws(Problem) -> [String] {
        let slash = spec.firstIndex(of: "/")
        let written = slash.map { spec[spec.index(after: $0)...].lowercased() } ?? ""
        let proto = written.isEmpty ? "tcp" : written
        guard ["tcp", "udp", "sctp"].contains(proto) else {
            throw Problem("EXPOSE: invalid protocol \"\(written)\" in \"\(spec)\"", hint: "use tcp, udp or sctp")
        }
        let range = spec[..<(slash ?? spec.endIndex)]
        let parts = range.split(separator: "-", omittingEmptySubsequences: false)
        let bounds = parts.compactMap { UInt16($0) }
        guard bounds.count == parts.count, (1...2).contains(bounds.count), bounds[0] <= bounds[bounds.count - 1] else {
            throw Problem("EXPOSE: invalid port \"\(range)\"")
        }
        return (bounds[0]...bounds[bounds.count - 1]).map { "\($0)/\(proto)" }
    }
}

/// Texts for the image history.
enum HistoryText {
    static func json(_ items: [String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(items)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func pairs(_ pairs: [KeyValue]) -> String {
        pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    static func flags(_ flags: [Flag]) -> [String] {
        flags.map { flag in flag.value.map { "--\(flag.name)=\($0)" } ?? "--\(flag.name)" }
    }

    static func healthcheck(_ check: Healthcheck, flags: [Flag]) -> String {
        let test: String
        switch check.test.first {
        case "CMD-SHELL": test = "CMD " + check.test.dropFirst().joined(separator: " ")
        case "CMD": test = "CMD " + json(Array(check.test.dropFirst()))
        default: test = "NONE"
        }
        return (["HEALTHCHECK"] + Self.flags(flags) + [test]).joined(separator: " ")
    }
}
