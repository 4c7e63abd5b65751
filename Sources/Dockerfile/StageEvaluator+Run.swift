// MARK: - RUN

extension StageEvaluator {
    /// Docker's PATH for a RUN in an image that sets none.
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    func run(_ instruction: Instruction) throws(Problem) -> (String, Action) {
        let scope = runScope
        let flags = try expandedFlags(instruction)
        let expanded = Instruction(keyword: .run, line: instruction.line, flags: flags, arguments: instruction.arguments)
        let (command, script) = try Self.command(instruction, shell: scope.shell)
        var mounts = script.map { [$0] } ?? []
        for flag in flags where flag.name == "mount" {
            mounts.append(try MountSpec(flag.value ?? "", workdir: scope.workdir).mount(resolve: copySource))
        }
        if let clash = Dictionary(grouping: mounts, by: \.target).first(where: { $0.value.count > 1 }) {
            throw Problem("--mount: two mounts on \(clash.key)", hint: "give each mount its own target")
        }
        let step = RunStep(
            command: command, environment: environment(scope.variables), user: scope.user,
            workdir: scope.workdir, network: try Self.network(expanded.flag("network")), mounts: mounts, platform: platform)
        let text = (["RUN"] + HistoryText.flags(flags) + command).joined(separator: " ")
        return (text, .run(step))
    }

    /// The variables in scope, plus the proxy build args and a default PATH.
    private func environment(_ variables: [String: String]) -> [String] {
        var all = variables
        for (name, value) in buildArgs where BuildPlanner.proxyArgs.contains(name) && all[name] == nil {
            all[name] = value
        }
        if all["PATH"] == nil { all["PATH"] = Self.defaultPath }
        return all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    private static func network(_ value: String?) throws(Problem) -> RunNetwork {
        guard let value else { return .default }
        guard let network = RunNetwork(rawValue: value.lowercased()) else {
            throw Problem("RUN --network: unknown value \"\(value)\"", hint: "use --network=host, none or default")
        }
        return network
    }

    /// The process arguments and, for a heredoc starting with `#!`, the script mounted to run it.
    /// As BuildKit: a RUN that is one heredoc runs its body through the shell (or as its own
    /// program with a shebang); otherwise the heredocs are written back so the shell reads them.
    private static func command(_ instruction: Instruction, shell: [String]) throws(Problem) -> ([String], RunMount?) {
        let heredocs = instruction.heredocs
        guard !instruction.isJSON else { return (instruction.arguments, nil) }
        let line = instruction.arguments[0]
        guard !heredocs.isEmpty else { return (shell + [line], nil) }
        guard heredocs.count == 1, HeredocMarker.markers(in: "RUN " + line).count == 1, Words.split(line).count == 1 else {
            let script = heredocs.reduce(line) { $0 + "\n" + $1.content + $1.name }
            return (shell + [script], nil)
        }
        let heredoc = heredocs[0]
        guard heredoc.content.hasPrefix("#!") else { return (shell + [heredoc.content], nil) }
        let path = "/dev/pipes/" + heredoc.name
        return (shell + [path], .file(target: path, content: heredoc.content, mode: 0o755))
    }
}
