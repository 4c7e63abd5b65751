/// The part of the OCI runtime spec's `config.json` that a build step needs. Field names are
/// the spec's (runtime-spec 1.0), so the encoded JSON is what crun and runc read.
struct RuntimeConfig: Encodable, Equatable {
    var ociVersion = "1.0.2"
    var process: Process
    var root: Root
    var hostname = "buildkitsandbox"
    var mounts: [Mount]
    var linux: Linux

    struct Process: Encodable, Equatable {
        var terminal = false
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities: Capabilities
        var noNewPrivileges = false
    }

    struct User: Encodable, Equatable {
        var uid: Int
        var gid: Int
        var additionalGids: [Int]?
    }

    struct Capabilities: Encodable, Equatable {
        var bounding: [String]
        var effective: [String]
        var permitted: [String]
    }

    struct Root: Encodable, Equatable {
        var path: String
        var readonly = false
    }

    struct Mount: Encodable, Equatable {
        var destination: String
        var type: String
        var source: String
        var options: [String]
    }

    struct Linux: Encodable, Equatable {
        var namespaces: [Namespace]
        var maskedPaths: [String]
        var readonlyPaths: [String]
    }

    struct Namespace: Encodable, Equatable {
        var type: String
    }
}
