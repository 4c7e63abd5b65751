import Foundation

/// Runs one process in a runtime bundle whose root file system is an overlay of `lowerDirs`
/// with `upperDir` collecting the changes.
public struct BundleRunner: Sendable {
    public var runtime: OCIRuntime
    /// A directory of ours for bundles, overlay work directories and runtime state.
    public var scratchDir: String

    public init(runtime: OCIRuntime, scratchDir: String) {
        self.runtime = runtime
        self.scratchDir = scratchDir
    }

    /// Runs `spec` (its root path is replaced by the overlay) and returns the exit status.
    /// Output of the process, stdout and stderr together, goes to `onLine` line by line.
    /// Afterwards the bundle, the state and the mount points the runtime had to create (for
    /// /proc, /etc/resolv.conf, mounts) are gone; the upper directory holds only the RUN's changes.
    public func run(
        _ spec: BundleSpec, lowerDirs: [String], upperDir: String, onLine: (String) -> Void
    ) throws(RuntimeError) -> Int32 {
        let id = "sit-" + UUID().uuidString.prefix(12).lowercased()
        let base = "\(scratchDir)/\(id)"
        let bundle = "\(base)/bundle"
        let overlay = OverlayMount(lowerDirs: lowerDirs, upperDir: upperDir, workDir: "\(base)/work", mergedDir: "\(bundle)/rootfs")
        defer { Self.removeTree(base) }
        var spec = spec
        spec.rootPath = overlay.mergedDir
        for directory in [overlay.mergedDir, overlay.workDir, "\(base)/state", upperDir] {
            try Self.makeDirectory(directory)
        }
        try Self.copyRootAttributes(from: lowerDirs.first, to: upperDir)
        try Self.write(spec.configJSON(), to: "\(bundle)/config.json")
        guard let unshare = Executable.find("unshare") else {
            throw RuntimeError("unshare not found: RUN needs util-linux's unshare", hint: "apt-get install util-linux")
        }
        let sandbox = Sandbox(
            unshare: unshare, overlay: overlay, rootless: spec.rootless, runtime: runtime,
            stateDir: "\(base)/state", bundle: bundle, id: id)
        let status = try ProcessRunner.run(
            try sandbox.arguments(), environment: ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            onLine: onLine)
        if status == Sandbox.mountFailed, (try? DirectoryHandle(path: upperDir).names(path: upperDir))?.isEmpty == true {
            throw RuntimeError(
                "overlayfs could not be mounted for \(upperDir)",
                hint: "RUN needs a kernel with overlayfs\(spec.rootless == nil ? "" : " in user namespaces (Linux 5.11 or later)")")
        }
        try Mountpoints.removeCreated(spec.mountDestinations, upperDir: upperDir, lowerDirs: lowerDirs)
        return status
    }

    private static func makeDirectory(_ path: String) throws(RuntimeError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RuntimeError("cannot create directory \(path): \(error)")
        }
    }

    /// Overlayfs gives the merged root the upper directory's mode and owner: they must be the
    /// image's root's (0700 would lock every non-root USER out of the whole file system).
    private static func copyRootAttributes(from lower: String?, to upper: String) throws(RuntimeError) {
        var info = stat()
        guard let lower, stat(lower, &info) == 0 else { return }
        // Rootless, the caller cannot give the directory away; it is root's inside anyway.
        if geteuid() == 0, chown(upper, info.st_uid, info.st_gid) != 0 { throw RuntimeError.errno("cannot set the owner of \(upper)") }
        guard chmod(upper, info.st_mode & 0o7777) == 0 else { throw RuntimeError.errno("cannot set the mode of \(upper)") }
    }

    private static func write(_ data: Data, to path: String) throws(RuntimeError) {
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw RuntimeError.errno("cannot write \(path)")
        }
    }

    /// Overlayfs leaves its `work/work` directory with mode 000; make everything removable first.
    private static func removeTree(_ path: String) {
        if let enumerator = FileManager.default.enumerator(atPath: path) {
            for case let child as String in enumerator {
                try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: "\(path)/\(child)")
            }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}

extension BundleSpec {
    /// Where the runtime may have had to create a file or directory in the root file system.
    var mountDestinations: [String] {
        config.mounts.map(\.destination)
    }
}
