import Foundation

/// A RUN instruction, expanded and resolved: everything the executor needs and nothing it
/// has to look up in the Dockerfile again.
public struct RunStep: Sendable, Equatable {
    /// The process's arguments: the SHELL plus the command (shell form), or the array as written.
    public var command: [String]
    /// `KEY=value`, sorted by key: the image's ENV, the ARGs in scope, a default PATH when
    /// the image has none, and the proxy build args (which Docker passes without an ARG).
    public var environment: [String]
    /// The USER in scope, as written (`name`, `uid`, `uid:gid`); `nil` runs as root.
    public var user: String?
    /// Absolute and cleaned; the executor creates it when missing.
    public var workdir: String
    public var network: RunNetwork
    public var mounts: [RunMount]
    /// The `--platform` the RUN builds for, as `os/arch[/variant]`.
    public var platform: String

    public init(
        command: [String], environment: [String], user: String? = nil, workdir: String = "/",
        network: RunNetwork = .default, mounts: [RunMount] = [], platform: String
    ) {
        self.command = command
        self.environment = environment
        self.user = user
        self.workdir = workdir
        self.network = network
        self.mounts = mounts
        self.platform = platform
    }

    /// Canonical text of everything that decides what the RUN does, for the build to hash with
    /// its parent chain. Secret values never appear (the plan has none); proxy variables are left
    /// out as Docker leaves them out, so a proxy change does not rebuild.
    public var cacheKey: String {
        let environment = environment.filter { entry in
            !BuildPlanner.proxyArgs.contains(String(entry.prefix { $0 != "=" }))
        }
        let key = CacheKey(
            command: command, environment: environment, user: user ?? "", workdir: workdir,
            network: network.rawValue, mounts: mounts.map(\.cacheText), platform: platform)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and arrays of strings cannot fail.
        return String(decoding: (try? encoder.encode(key)) ?? Data(), as: UTF8.self)
    }

    private struct CacheKey: Encodable {
        var command: [String]
        var environment: [String]
        var user: String
        var workdir: String
        var network: String
        var mounts: [String]
        var platform: String
    }
}

/// `RUN --network`.
public enum RunNetwork: String, Sendable, Equatable, CaseIterable {
    /// No flag: the host's network, so apt-get and pip reach their mirrors.
    case `default`
    case host
    /// A network namespace with loopback only.
    case none
}

/// One `RUN --mount`.
public enum RunMount: Sendable, Equatable {
    case bind(BindMount)
    case cache(CacheMount)
    case secret(SecretMount)
    case tmpfs(target: String, size: Int64?)
    /// A shebang heredoc (`RUN <<EOF` with `#!` first), mounted read-only and executed.
    case file(target: String, content: String, mode: UInt32)

    public var target: String {
        switch self {
        case .bind(let mount): mount.target
        case .cache(let mount): mount.target
        case .secret(let mount): mount.target
        case .tmpfs(let target, _), .file(let target, _, _): target
        }
    }

    /// What the cache key records: every option, never a secret's value.
    var cacheText: String {
        switch self {
        case .bind(let m): "bind,from=\(m.from),source=\(m.source),target=\(m.target),rw=\(m.readWrite)"
        case .cache(let m): "cache,id=\(m.id),target=\(m.target),sharing=\(m.sharing.rawValue),mode=\(String(m.mode, radix: 8)),uid=\(m.uid),gid=\(m.gid),ro=\(m.readOnly)"
        case .secret(let m): "secret,id=\(m.id),target=\(m.target),required=\(m.required),mode=\(String(m.mode, radix: 8)),uid=\(m.uid),gid=\(m.gid)"
        case .tmpfs(let target, let size): "tmpfs,target=\(target),size=\(size.map(String.init) ?? "")"
        case .file(let target, let content, let mode): "file,target=\(target),mode=\(String(mode, radix: 8)),content=\(content)"
        }
    }
}

public struct BindMount: Sendable, Equatable {
    /// The build context, an earlier stage or an image (default: the context).
    public var from: CopySource
    /// A path inside `from`, cleaned and absolute.
    public var source: String
    public var target: String
    public var readWrite: Bool

    public init(from: CopySource = .context, source: String = "/", target: String, readWrite: Bool = false) {
        self.from = from
        self.source = source
        self.target = target
        self.readWrite = readWrite
    }
}

public struct CacheMount: Sendable, Equatable {
    public enum Sharing: String, Sendable, Equatable, CaseIterable {
        case shared, `private`, locked
    }

    /// The cache's name across builds; the target when not given.
    public var id: String
    public var target: String
    public var sharing: Sharing
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    public var readOnly: Bool

    public init(
        id: String, target: String, sharing: Sharing = .shared, mode: UInt32 = 0o755,
        uid: Int = 0, gid: Int = 0, readOnly: Bool = false
    ) {
        self.id = id
        self.target = target
        self.sharing = sharing
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.readOnly = readOnly
    }
}

public struct SecretMount: Sendable, Equatable {
    public var id: String
    /// `/run/secrets/<id>` when not given.
    public var target: String
    /// A missing secret fails the RUN instead of leaving the target absent.
    public var required: Bool
    public var mode: UInt32
    public var uid: Int
    public var gid: Int

    public init(id: String, target: String, required: Bool = false, mode: UInt32 = 0o400, uid: Int = 0, gid: Int = 0) {
        self.id = id
        self.target = target
        self.required = required
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }
}
