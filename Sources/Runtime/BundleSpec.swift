import Foundation

/// What one process in a bundle needs, turned into the runtime's `config.json` (pure).
public struct BundleSpec: Sendable, Equatable {
    public var args: [String]
    /// `KEY=value` entries.
    public var env: [String]
    public var cwd: String
    public var user: ProcessUser
    /// The root file system: the overlay's merged directory.
    public var rootPath: String
    public var network: Network
    /// Bind, tmpfs and other mounts on top of the standard ones, in order.
    public var mounts: [BundleMount]
    /// Set when the runtime runs in a user namespace of ours (rootless): ids it can use.
    public var rootless: RootlessIDs?

    public enum Network: Sendable, Equatable {
        /// The host's network namespace, with its resolv.conf and hosts bound in read-only.
        case host
        /// A network namespace of its own: loopback only.
        case none
    }

    public init(
        args: [String], env: [String], cwd: String = "/", user: ProcessUser = ProcessUser(uid: 0, gid: 0),
        rootPath: String, network: Network = .host, mounts: [BundleMount] = [], rootless: RootlessIDs? = nil
    ) {
        self.args = args
        self.env = env
        self.cwd = cwd
        self.user = user
        self.rootPath = rootPath
        self.network = network
        self.mounts = mounts
        self.rootless = rootless
    }

    /// Docker's default capability set: with runc's smaller default apt-get cannot drop to
    /// `_apt` (no SETUID/SETGID) and fails with "does not have a Release file".
    public static let capabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE",
        "CAP_SETFCAP",
    ]

    /// Docker's masked and read-only paths (moby's oci/defaults.go).
    static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]
    static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// The encoded `config.json`, keys sorted so equal specs give equal bytes.
    public func configJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, numbers and arrays of them always encode.
        return (try? encoder.encode(config)) ?? Data()
    }

    var config: RuntimeConfig {
        let capabilities = RuntimeConfig.Capabilities(
            bounding: Self.capabilities, effective: Self.capabilities, permitted: Self.capabilities)
        let process = RuntimeConfig.Process(
            user: RuntimeConfig.User(uid: user.uid, gid: user.gid, additionalGids: user.additionalGids.isEmpty ? nil : user.additionalGids),
            args: args, env: env, cwd: cwd, capabilities: capabilities)
        var namespaces = ["pid", "ipc", "uts", "mount"]
        if network == .none { namespaces.append("network") }
        let linux = RuntimeConfig.Linux(
            namespaces: namespaces.map(RuntimeConfig.Namespace.init),
            maskedPaths: Self.maskedPaths, readonlyPaths: Self.readonlyPaths)
        return RuntimeConfig(
            process: process, root: RuntimeConfig.Root(path: rootPath),
            mounts: standardMounts + networkMounts + mounts.map(\.runtimeMount), linux: linux)
    }

    /// proc, dev, devpts, shm, mqueue and sys, as Docker mounts them. In a user namespace that
    /// does not own the network namespace sysfs cannot be mounted, so /sys is bound instead
    /// (as rootless runc does), and devpts's gid=5 only when gid 5 is mapped.
    private var standardMounts: [RuntimeConfig.Mount] {
        let ttyMapped = rootless.map { $0.gidMappings.contains { (($0.containerID)..<($0.containerID + $0.size)).contains(5) } } ?? true
        let sys = rootless != nil && network == .host
            ? RuntimeConfig.Mount(destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
            : RuntimeConfig.Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"])
        return [
            RuntimeConfig.Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            RuntimeConfig.Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            RuntimeConfig.Mount(
                destination: "/dev/pts", type: "devpts", source: "devpts",
                options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] + (ttyMapped ? ["gid=5"] : [])),
            RuntimeConfig.Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            RuntimeConfig.Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            sys,
        ]
    }

    /// The host's name resolution, read-only, so apt-get and pip resolve mirrors.
    private var networkMounts: [RuntimeConfig.Mount] {
        guard network == .host else { return [] }
        return ["/etc/resolv.conf", "/etc/hosts"].map {
            RuntimeConfig.Mount(destination: $0, type: "none", source: $0, options: ["rbind", "ro", "nosuid", "nodev", "noexec"])
        }
    }
}

public struct ProcessUser: Sendable, Equatable {
    public var uid: Int
    public var gid: Int
    public var additionalGids: [Int]

    public init(uid: Int, gid: Int, additionalGids: [Int] = []) {
        self.uid = uid
        self.gid = gid
        self.additionalGids = additionalGids
    }
}

/// A mount the build asks for (cache, secret, bind, tmpfs).
public enum BundleMount: Sendable, Equatable {
    /// A host path bound at `destination`.
    case bind(source: String, destination: String, readOnly: Bool)
    case tmpfs(destination: String, sizeBytes: Int64?)

    var runtimeMount: RuntimeConfig.Mount {
        switch self {
        case .bind(let source, let destination, let readOnly):
            RuntimeConfig.Mount(
                destination: destination, type: "none", source: source,
                options: ["rbind", readOnly ? "ro" : "rw", "nosuid", "nodev"])
        case .tmpfs(let destination, let size):
            RuntimeConfig.Mount(
                destination: destination, type: "tmpfs", source: "tmpfs",
                options: ["nosuid", "nodev", "mode=1777"] + (size.map { ["size=\($0)"] } ?? []))
        }
    }
}
