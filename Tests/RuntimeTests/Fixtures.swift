import Foundation
import Glibc
import Testing

/// A user the rootless probe runs as.
struct Account: Sendable, Equatable {
    var uid: Int
    var gid: Int

    /// `nobody`: no /etc/subuid range, so root inside is the caller and nothing else is mapped.
    static let nobody = Account(uid: 65534, gid: 65534)

    /// The user scripts/bootstrap.sh makes with a subordinate range (300000, 65536 ids).
    static var rootlessWithRanges: Account? {
        guard let entry = getpwnam("sit-rootless") else { return nil }
        return Account(uid: Int(entry.pointee.pw_uid), gid: Int(entry.pointee.pw_gid))
    }
}

/// A temporary directory that everyone can reach (the rootless probe runs as another user),
/// removed afterwards.
enum Scratch {
    static func with(owner: Account?, _ body: (URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "sit-runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        try chown(dir, to: owner)
        try body(dir)
    }

    /// `chown -R`, without following symlinks.
    static func chown(_ url: URL, to owner: Account?) throws {
        guard let owner else { return }
        let status = try Process.run(URL(fileURLWithPath: "/bin/chown"), arguments: ["-R", "-h", "\(owner.uid):\(owner.gid)", url.path])
        status.waitUntilExit()
        #expect(status.terminationStatus == 0)
    }
}

/// A root file system of Debian's static busybox: /bin with a few applets and /etc/passwd.
/// No /proc, /dev, /sys or /etc/resolv.conf: the runtime must make those mount points, and
/// they must not show up as changes.
enum BusyboxRoot {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "/bin/busybox not found; install busybox-static (scripts/bootstrap.sh)" }
    }

    static func make(in dir: URL, owner: Account?) throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else { throw Missing() }
        let root = dir.appending(path: "lower")
        let fm = FileManager.default
        for sub in ["bin", "etc"] {
            try fm.createDirectory(at: root.appending(path: sub), withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: "/bin/busybox", toPath: root.appending(path: "bin/busybox").path)
        for applet in ["sh", "ls", "mkdir", "rm", "echo", "cat", "ln", "mv"] {
            try fm.createSymbolicLink(atPath: root.appending(path: "bin/\(applet)").path, withDestinationPath: "busybox")
        }
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: root.appending(path: "etc/passwd"))
        try Scratch.chown(root, to: owner)
        return root
    }
}

/// Every entry under a directory with its type, mode, owner, size, link target and content
/// digest, read without following symlinks: equal fingerprints mean an unchanged tree.
enum TreeFingerprint {
    static func of(_ url: URL) throws -> [String] {
        let fm = FileManager.default
        var entries: [String] = []
        let paths = try fm.subpathsOfDirectory(atPath: url.path).sorted()
        for path in [""] + paths {
            let full = path.isEmpty ? url.path : url.path + "/" + path
            let attributes = try fm.attributesOfItem(atPath: full)
            let type = attributes[.type] as? FileAttributeType
            var entry = "\(path) \(type?.rawValue ?? "?") \(attributes[.posixPermissions] ?? "") \(attributes[.ownerAccountID] ?? "") \(attributes[.size] ?? "")"
            if type == .typeSymbolicLink { entry += " -> " + (try fm.destinationOfSymbolicLink(atPath: full)) }
            if type == .typeRegular { entry += " \(fnv1a(try Data(contentsOf: URL(fileURLWithPath: full))))" }
            entries.append(entry)
        }
        return entries
    }

    /// A content checksum that is the same in every process (unlike `hashValue`).
    private static func fnv1a(_ data: Data) -> UInt64 {
        data.reduce(14_695_981_039_346_656_037) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }
}
