/// The platform being built, which sets the predefined TARGET* (and BUILD*) arguments.
public struct TargetPlatform: Sendable, Equatable {
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(os: String = "linux", architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// `os/arch[/variant]`, as in `--platform`.
    public var specifier: String {
        ([os, architecture] + (variant.map { [$0] } ?? [])).joined(separator: "/")
    }
}

/// A FROM line after expansion with the global ARGs.
public struct StageHeader: Sendable, Equatable {
    public let index: Int
    /// The lowercased `AS` name.
    public let name: String?
    public let base: BaseReference
    /// The expanded `--platform` value.
    public let platform: String?
    public let line: Int

    public init(index: Int, name: String?, base: BaseReference, platform: String?, line: Int) {
        self.index = index
        self.name = name
        self.base = base
        self.platform = platform
        self.line = line
    }
}

public enum BaseReference: Sendable, Equatable {
    case scratch
    /// An earlier stage, by index.
    case stage(Int)
    /// An image reference, expanded but not normalised.
    case image(String)
}

/// What a stage inherits from its base: the parts of the image config that expansion
/// and shell-form commands depend on.
public struct BaseState: Sendable, Equatable {
    /// `KEY=value` entries, as in the OCI config.
    public var env: [String]
    public var workingDir: String?
    public var shell: [String]?
    /// The config's User, which a RUN runs as until the stage sets USER.
    public var user: String?

    public init(env: [String] = [], workingDir: String? = nil, shell: [String]? = nil, user: String? = nil) {
        self.env = env
        self.workingDir = workingDir
        self.shell = shell
        self.user = user
    }
}

public struct StagePlan: Sendable, Equatable {
    public let steps: [PlannedStep]

    public init(steps: [PlannedStep]) {
        self.steps = steps
    }
}

public struct PlannedStep: Sendable, Equatable {
    public let line: Int
    /// The expanded instruction, for the image history, e.g. `COPY jars /opt/spark/jars`.
    public let createdBy: String
    public let action: Action

    public init(line: Int, createdBy: String, action: Action) {
        self.line = line
        self.createdBy = createdBy
        self.action = action
    }
}

/// What one instruction does to the image. ARG has no action: it only affects expansion.
public enum Action: Sendable, Equatable {
    /// Entries to set in the config's Env, replacing earlier values of the same key.
    case env([KeyValue])
    case label([KeyValue])
    /// An absolute, cleaned path.
    case workdir(String)
    case user(String)
    /// `resetsCmd` is true when no CMD came before in this stage: Docker then clears the
    /// Cmd inherited from the base image.
    case entrypoint([String], resetsCmd: Bool)
    case cmd([String])
    /// Ports as `port/protocol`, ranges already expanded.
    case expose([String])
    case volume([String])
    case stopSignal(String)
    case shell([String])
    case healthcheck(Healthcheck)
    /// Deprecated MAINTAINER: the config's author.
    case maintainer(String)
    case copy(CopyStep)
    case run(RunStep)
}

public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

public struct Healthcheck: Sendable, Equatable {
    /// `["NONE"]`, `["CMD", arg...]` or `["CMD-SHELL", command]`. The runtime runs
    /// CMD-SHELL through the config's Shell, so it is not wrapped here.
    public var test: [String]
    /// Durations in nanoseconds; `nil` when not given (the runtime default applies).
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?

    public init(
        test: [String], interval: Int64? = nil, timeout: Int64? = nil,
        startPeriod: Int64? = nil, startInterval: Int64? = nil, retries: Int? = nil
    ) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }
}

public struct CopyStep: Sendable, Equatable {
    public var isAdd: Bool
    /// Expanded, as written: relative to the context or to the root of the `--from` source.
    /// They may contain glob metacharacters (see ``PathPattern``).
    public var sources: [String]
    /// Expanded, absolute (resolved against the WORKDIR at this point) and cleaned.
    public var destination: String
    /// The destination was written with a trailing `/`, or as `.`: sources go inside it.
    public var destinationIsDirectory: Bool
    public var from: CopySource
    /// Expanded `user[:group]`, as written.
    public var chown: String?
    public var chmod: UInt32?
    public var link: Bool
    public var excludes: [String]

    public init(
        isAdd: Bool = false, sources: [String], destination: String, destinationIsDirectory: Bool,
        from: CopySource = .context, chown: String? = nil, chmod: UInt32? = nil,
        link: Bool = false, excludes: [String] = []
    ) {
        self.isAdd = isAdd
        self.sources = sources
        self.destination = destination
        self.destinationIsDirectory = destinationIsDirectory
        self.from = from
        self.chown = chown
        self.chmod = chmod
        self.link = link
        self.excludes = excludes
    }
}

public enum CopySource: Sendable, Equatable {
    case context
    /// An earlier stage, by index.
    case stage(Int)
    case image(String)
}
