/// The instructions this tool understands. ONBUILD is refused while parsing,
/// so it never appears here.
public enum Keyword: String, Sendable, CaseIterable {
    case from = "FROM", arg = "ARG", env = "ENV", label = "LABEL"
    case workdir = "WORKDIR", user = "USER", copy = "COPY", add = "ADD"
    case entrypoint = "ENTRYPOINT", cmd = "CMD", expose = "EXPOSE", volume = "VOLUME"
    case stopSignal = "STOPSIGNAL", shell = "SHELL", healthcheck = "HEALTHCHECK"
    case maintainer = "MAINTAINER", run = "RUN"
}

/// A `--name[=value]` flag as written, before variable expansion.
public struct Flag: Sendable, Equatable {
    public var name: String
    /// `nil` when the flag was written without `=` (only boolean flags allow that).
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// One instruction as written, split the way Docker's parser splits it, before expansion.
public struct Instruction: Sendable, Equatable {
    public var keyword: Keyword
    /// 1-based line where the instruction starts.
    public var line: Int
    public var flags: [Flag]
    /// The arguments. Their shape depends on the keyword:
    /// - ENV, LABEL: keys and values alternating (`[k1, v1, k2, v2]`), quotes still in place;
    /// - ARG: one `name[=default]` word each;
    /// - HEALTHCHECK: the type (`CMD`, `NONE`), then the command;
    /// - USER, WORKDIR, STOPSIGNAL, MAINTAINER and shell-form CMD, ENTRYPOINT, RUN: one string;
    /// - everything else: one word each.
    public var arguments: [String]
    /// Whether the arguments came from a JSON array (exec form).
    public var isJSON: Bool
    /// The bodies of `<<EOF` markers in the arguments, in order.
    public var heredocs: [Heredoc]

    public init(
        keyword: Keyword, line: Int, flags: [Flag] = [], arguments: [String], isJSON: Bool = false,
        heredocs: [Heredoc] = []
    ) {
        self.keyword = keyword
        self.line = line
        self.flags = flags
        self.arguments = arguments
        self.isJSON = isJSON
        self.heredocs = heredocs
    }

    /// The value of a flag that may be given once.
    func flag(_ name: String) -> String? {
        flags.last { $0.name == name }?.value
    }

    /// Whether a boolean flag is on; the parser has checked the value already.
    func isSet(_ name: String) -> Bool {
        guard let flag = flags.last(where: { $0.name == name }) else { return false }
        return flag.value.map { $0.lowercased() != "false" } ?? true
    }
}
