import Foundation

/// A tiny base image root filesystem made from Debian's static busybox, for tests that need a real
/// runnable image in milliseconds rather than the Java base from scripts/make-base-image.sh.
///
/// Contents: `/bin/busybox` with applet symlinks, `/etc/passwd` and `/etc/group` with root only
/// (uid 185, Spark's user, deliberately has no entry), `/root`, and `/tmp` with mode 1777.
/// Entries are sorted and owned by 0:0 with mtime 0, so the tarball is reproducible.
enum TinyBase {
    static let busybox = "/bin/busybox"

    static let applets = [
        "awk", "cat", "chmod", "cp", "cut", "echo", "env", "false", "find", "grep", "head", "id",
        "ln", "ls", "mkdir", "mv", "printf", "ps", "pwd", "readlink", "rm", "sed", "sh", "sleep",
        "sort", "stat", "tail", "test", "touch", "tr", "true", "uname", "wc", "whoami",
    ]

    static let passwd = "root:x:0:0:root:/root:/bin/sh\n"
    static let group = "root:x:0:\n"

    struct BusyboxMissing: Error, CustomStringConvertible {
        var description: String { "\(TinyBase.busybox) not found; install busybox-static (scripts/bootstrap.sh)" }
    }

    /// Writes the root filesystem as a tarball to `url`: gzip-compressed (`gzip -n`) by default,
    /// plain tar with `compressed: false` (as `umoci raw add-layer` wants).
    static func makeRootfs(at url: URL, compressed: Bool = true) throws {
        guard FileManager.default.isExecutableFile(atPath: busybox) else { throw BusyboxMissing() }
        try TemporaryDirectory.with(prefix: "sit-tinybase") { staging in
            let fm = FileManager.default
            let root = staging.appending(path: "rootfs")
            for (dir, mode) in [("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777)] {
                let u = root.appending(path: dir)
                try fm.createDirectory(at: u, withIntermediateDirectories: true)
                try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: u.path)
            }
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.path)
            let bin = root.appending(path: "bin")
            try fm.copyItem(atPath: busybox, toPath: bin.appending(path: "busybox").path)
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appending(path: "busybox").path)
            for applet in applets {
                try fm.createSymbolicLink(atPath: bin.appending(path: applet).path, withDestinationPath: "busybox")
            }
            for (name, text) in [("passwd", passwd), ("group", group)] {
                let file = root.appending(path: "etc/\(name)")
                try Data(text.utf8).write(to: file)
                try fm.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
            }
            var args = [
                "--create", "--file", url.path, "--directory", root.path,
                "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                "--format=gnu",
            ]
            if compressed { args.append("--use-compress-program=gzip -n") }
            args.append(".")
            try Command.run("tar", args, environment: ["LC_ALL": "C"]).check()
        }
    }

    /// Makes an OCI image layout at `layout` with one image `tag` whose only layer is the tiny
    /// rootfs, using umoci (a validator nobody here wrote). `user` and `cmd` go into its config.
    static func makeOCIImage(layout: URL, tag: String = "latest", user: String? = nil, cmd: [String] = ["/bin/sh"]) throws {
        try TemporaryDirectory.with(prefix: "sit-tinybase-oci") { scratch in
            let layer = scratch.appending(path: "rootfs.tar")
            try makeRootfs(at: layer, compressed: false)
            let image = "\(layout.path):\(tag)"
            try Command.run("umoci", ["init", "--layout", layout.path]).check()
            try Command.run("umoci", ["new", "--image", image]).check()
            try Command.run("umoci", ["raw", "add-layer", "--image", image, layer.path]).check()
            var config = ["config", "--image", image, "--os", "linux", "--architecture", goArch]
            if let user { config += ["--config.user", user] }
            config += ["--clear=config.cmd"] + cmd.flatMap { ["--config.cmd", $0] }
            try Command.run("umoci", config).check()
        }
    }

    /// The running machine's architecture in Go/OCI spelling.
    static var goArch: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }
}
