/// Turns a parsed Dockerfile into stage headers and per-stage plans, expanding variables
/// the way Docker (BuildKit) does.
public struct BuildPlanner: Sendable {
    public let dockerfile: Dockerfile
    public let buildArgs: [String: String]
    public let platform: TargetPlatform
    /// The platform the build runs on (BUILD* arguments); the target platform when not given.
    public let buildPlatform: TargetPlatform

    /// Arguments Docker accepts without an ARG and never reports as unused.
    static let proxyArgs: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
    ]

    public init(
        dockerfile: Dockerfile, buildArgs: [String: String], platform: TargetPlatform,
        buildPlatform: TargetPlatform? = nil
    ) {
        self.dockerfile = dockerfile
        self.buildArgs = buildArgs
        self.platform = platform
        self.buildPlatform = buildPlatform ?? platform
    }

    /// The FROM lines, expanded with the global ARGs, build args and predefined arguments.
    public func stages() throws(DockerfileError) -> [StageHeader] {
        let expander = ShellWord(escape: dockerfile.escape, variables: try globalArgs())
        var headers: [StageHeader] = []
        for (index, stage) in stageInstructions.enumerated() {
            let from = stage[stage.startIndex]
            do {
                headers.append(try header(index: index, from: from, expander: expander))
            } catch {
                throw error.at(dockerfile.file, line: from.line)
            }
        }
        return headers
    }

    /// The steps of one stage, starting from what its base image or stage provides.
    public func evaluate(_ stage: StageHeader, base: BaseState) throws(DockerfileError) -> StagePlan {
        var evaluator = StageEvaluator(
            escape: dockerfile.escape, index: stage.index, stageNames: stageNames,
            globals: try globalArgs(), buildArgs: buildArgs, platform: platform.specifier, base: base)
        var steps: [PlannedStep] = []
        for instruction in stageInstructions[stage.index].dropFirst() {
            do {
                if let (createdBy, action) = try evaluator.apply(instruction) {
                    steps.append(PlannedStep(line: instruction.line, createdBy: createdBy, action: action))
                }
            } catch {
                throw error.at(dockerfile.file, line: instruction.line)
            }
        }
        return StagePlan(steps: steps)
    }

    /// Build args that no ARG declares, sorted, as in Docker's warning
    /// "One or more build-args [...] were not consumed".
    public var unusedBuildArgs: [String] {
        let declared = Set(dockerfile.instructions.filter { $0.keyword == .arg }.flatMap(\.arguments).map { ArgDeclaration($0).name })
        let predefined = Set(predefinedArgs.keys)
        return buildArgs.keys.filter { !declared.contains($0) && !predefined.contains($0) && !Self.proxyArgs.contains($0) }.sorted()
    }

    // MARK: - Stages

    /// Each stage's instructions, starting with its FROM.
    private var stageInstructions: [ArraySlice<Instruction>] {
        let all = dockerfile.instructions
        let starts = all.indices.filter { all[$0].keyword == .from }
        return starts.enumerated().map { offset, start in
            all[start..<(offset + 1 < starts.count ? starts[offset + 1] : all.endIndex)]
        }
    }

    private var stageNames: [String?] {
        dockerfile.instructions.filter { $0.keyword == .from }.map(\.stageName)
    }

    private func header(index: Int, from: Instruction, expander: ShellWord) throws(Problem) -> StageHeader {
        let written = from.arguments[0]
        let name = try expander.expand(written)
        guard !name.isEmpty else { throw Problem("base name (\(written)) should not be blank") }
        var platform: String?
        if let flag = from.flag("platform") { platform = try expander.expand(flag) }
        let base: BaseReference
        if let stage = stageNames[..<index].firstIndex(of: name.lowercased()) {
            base = .stage(stage)
        } else {
            base = name.lowercased() == "scratch" ? .scratch : .image(name)
        }
        return StageHeader(index: index, name: from.stageName, base: base, platform: platform, line: from.line)
    }

    // MARK: - Arguments

    private var predefinedArgs: [String: String] {
        platform.arguments(prefix: "TARGET").merging(buildPlatform.arguments(prefix: "BUILD")) { $1 }
    }

    /// ARGs before the first FROM, resolved in order; usable in FROM lines and inherited by
    /// an ARG without default inside a stage.
    private func globalArgs() throws(DockerfileError) -> [String: String] {
        var values = predefinedArgs
        for instruction in dockerfile.instructions.prefix(while: { $0.keyword == .arg }) {
            for word in instruction.arguments {
                let declaration = ArgDeclaration(word)
                do {
                    let expander = ShellWord(escape: dockerfile.escape, variables: values)
                    values[declaration.name] = try declaration.value(
                        buildArgs: buildArgs, expander: expander, inherited: values[declaration.name])
                } catch {
                    throw error.at(dockerfile.file, line: instruction.line)
                }
            }
        }
        return values
    }
}

extension ArgDeclaration {
    /// Docker's precedence: the build arg, else the default (expanded now), else the inherited value.
    func value(buildArgs: [String: String], expander: ShellWord, inherited: String?) throws(Problem) -> String? {
        if let given = buildArgs[name] { return given }
        if let defaultValue { return try expander.expand(defaultValue) }
        return inherited
    }
}

extension TargetPlatform {
    func arguments(prefix: String) -> [String: String] {
        [
            prefix + "PLATFORM": specifier, prefix + "OS": os,
            prefix + "ARCH": architecture, prefix + "VARIANT": variant ?? "",
        ]
    }
}
