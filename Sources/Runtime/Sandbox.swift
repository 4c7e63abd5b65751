/// The process that mounts the overlay and starts the runtime, in a mount namespace of its own
/// (and, rootless, a user namespace with the caller as root). The mount lives only in that
/// namespace, so it is gone when the process ends, even when we are killed: nothing to unmount.
struct Sandbox: Equatable {
    var unshare: String
    var overlay: OverlayMount
    var rootless: RootlessIDs?
    var runtime: OCIRuntime
    var stateDir: String
    var bundle: String
    var id: String

    /// Exit status of the sandbox when the overlay cannot be mounted (Docker's 125: not the command's fault).
    static let mountFailed: Int32 = 125

    /// crun refuses a cgroup v1 host whose v2 hierarchy has controllers, even with cgroups
    /// disabled; a tmpfs over /sys/fs/cgroup/unified, in our mount namespace only, hides it.
    static let script = """
        set -e
        if [ "$1" = crun ] && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
          mount -t tmpfs -o ro,size=4k none /sys/fs/cgroup/unified
        fi
        mount -t overlay overlay -o "$2" "$3" || { echo "cannot mount overlayfs on $3" >&2; exit 125; }
        shift 3
        exec "$@"
        """

    func arguments() throws(RuntimeError) -> [String] {
        let options = try overlay.options(inUserNamespace: rootless != nil)
        return [unshare] + (rootless?.unshareArguments ?? []) + ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", Self.script, "sh"]
            + [runtime.kind.rawValue, options, overlay.mergedDir]
            + runtime.runArguments(stateDir: stateDir, bundle: bundle, id: id)
    }
}
