import Foundation

/// An OCI runtime binary: crun (preferred: faster to start, smaller) or runc.
public struct OCIRuntime: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case crun, runc
    }

    public var kind: Kind
    public var path: String

    public init(kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    /// The first of crun, runc on `PATH` (with the sbin directories runc lives in on Debian).
    public static func locate(
        preferring kinds: [Kind] = Kind.allCases,
        searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? ""
    ) throws(RuntimeError) -> OCIRuntime {
        for kind in kinds {
            if let path = Executable.find(kind.rawValue, searchPath: searchPath) { return OCIRuntime(kind: kind, path: path) }
        }
        throw RuntimeError(
            "no OCI runtime found: RUN needs \(kinds.map(\.rawValue).joined(separator: " or ")) on PATH",
            hint: "install one (apt-get install crun), or run scripts/bootstrap.sh")
    }

    /// `run` in the foreground, with the container state under `stateDir` (ours, never the
    /// system's /run/crun or /run/runc). crun is told not to touch cgroups: a build step needs
    /// no limits, and cgroup setups crun refuses (v1 with controllers on v2) are common in VMs.
    func runArguments(stateDir: String, bundle: String, id: String) -> [String] {
        let global = kind == .crun ? ["--cgroup-manager=disabled"] : []
        return [path] + global + ["--root", stateDir, "run", "--bundle", bundle, id]
    }
}

enum Executable {
    /// `name` in the directories of `searchPath`, then in the sbin directories (runc is in /usr/sbin on Debian).
    static func find(_ name: String, searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "") -> String? {
        let directories = searchPath.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
