import Foundation
import Glibc

/// Rootless with a subordinate id range, files the caller made are all its own (root inside the
/// RUN). This gives them the owners an image names, by `chown` inside the same user namespace
/// the RUN gets (util-linux `unshare`, newuidmap), so that inside the RUN uid 185's files are
/// 185's; and removes such trees, which the caller alone cannot.
public struct SubordinateOwners: Sendable {
    public let ids: RootlessIDs

    /// Nil without subordinate ids: then root is the only owner there is.
    public init?(_ ids: RootlessIDs?) {
        guard let ids, ids.hasSubordinateIDs else { return nil }
        self.ids = ids
    }

    /// One path's owner and mode, as a layer gives them.
    public struct Entry: Sendable, Equatable {
        /// Relative to the directory, without a leading `/`.
        public var path: String
        public var uid: Int
        public var gid: Int
        public var mode: UInt32
        public var isSymlink: Bool

        public init(path: String, uid: Int, gid: Int, mode: UInt32, isSymlink: Bool = false) {
            self.path = path
            self.uid = uid
            self.gid = gid
            self.mode = mode
            self.isSymlink = isSymlink
        }
    }

    /// The commands for `entries`: owners other than the caller's, grouped; then the modes
    /// with setuid or setgid, which chown clears. Ids the namespace does not map stay root,
    /// and paths reached through anything but directories are skipped.
    func commands(_ entries: [Entry], in directory: String) -> [(command: String, argument: String, paths: [String])] {
        var owners: [String: [String]] = [:], modes: [String: [String]] = [:]
        for entry in entries where Self.isReachable(entry.path, in: directory) {
            let uid = mapped(entry.uid, ids.uidMappings), gid = mapped(entry.gid, ids.gidMappings)
            guard uid != 0 || gid != 0 else { continue }
            owners["\(uid):\(gid)", default: []].append(entry.path)
            if entry.mode & 0o6000 != 0, !entry.isSymlink { modes[String(entry.mode & 0o7777, radix: 8), default: []].append(entry.path) }
        }
        return owners.sorted { $0.key < $1.key }.map { ("chown", $0.key, $0.value) }
            + modes.sorted { $0.key < $1.key }.map { ("chmod", $0.key, $0.value) }
    }

    /// Sets the owners of `entries` below `directory` (ours, all the caller's files).
    public func apply(_ entries: [Entry], in directory: String, scratch: String) throws(RuntimeError) {
        let commands = commands(entries, in: directory)
        guard !commands.isEmpty else { return }
        var arguments = [directory]
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            for (index, command) in commands.enumerated() {
                let list = "\(scratch)/owners-\(index)"
                try Data(command.paths.joined(separator: "\0").utf8).write(to: URL(fileURLWithPath: list))
                arguments += [command.command, command.argument, list]
            }
        } catch {
            throw RuntimeError("cannot write the owner lists in \(scratch): \(error)")
        }
        try run(Self.ownerScript, arguments, what: "set the owners of \(directory)")
    }

    /// Gives everything below `directory` not owned by root inside back to the caller (root
    /// inside), so that the caller can read it (a file USER 185 made 0600, a 0700 directory), and
    /// returns the owners it had, by relative path, as ids inside the namespace. `listing` is a
    /// file of ours for find's records.
    public func takeBack(_ directory: String, listing: String) throws(RuntimeError) -> [String: (uid: Int, gid: Int)] {
        try run(Self.takeBackScript, [directory, listing], what: "take back the files below \(directory)")
        guard let data = FileManager.default.contents(atPath: listing) else { throw RuntimeError.errno("cannot read \(listing)") }
        var owners: [String: (uid: Int, gid: Int)] = [:]
        for record in data.split(separator: 0) {
            let fields = String(decoding: record, as: UTF8.self).split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let uid = Int(fields[0]), let gid = Int(fields[1]) else { continue }
            owners[String(fields[2])] = (uid, gid)
        }
        return owners
    }

    /// find's records (`uid gid path`, NUL-terminated), then the chown; the setuid and
    /// setgid bits chown clears come back from a second, short list (`mode path`).
    static let takeBackScript = """
        set -e
        cd -- "$1"
        find . -mindepth 1 \\( ! -uid 0 -o ! -gid 0 \\) -printf '%U %G %P\\0' > "$2"
        find . -mindepth 1 \\( ! -uid 0 -o ! -gid 0 \\) -perm /6000 ! -type l -printf '%m %P\\0' > "$2.modes"
        find . -mindepth 1 \\( ! -uid 0 -o ! -gid 0 \\) -exec chown -h 0:0 -- {} +
        xargs -0 -r -n 1 sh -c 'chmod -- "${0%% *}" "./${0#* }"' < "$2.modes"
        """

    /// Removes `path`, whose files may belong to subordinate ids.
    public func removeTree(_ path: String) throws(RuntimeError) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        try run("rm -rf -- \"$1\"", [path], what: "remove \(path)")
    }

    /// `chown -h` never follows the entry's own symlink; chmod only ever sees files and directories.
    static let ownerScript = """
        set -e
        cd -- "$1"
        shift
        while [ $# -ge 3 ]; do
          case "$1" in
            chown) xargs -0 -r chown -h -- "$2" < "$3" ;;
            chmod) xargs -0 -r chmod -- "$2" < "$3" ;;
          esac
          shift 3
        done
        """

    private func run(_ script: String, _ arguments: [String], what: String) throws(RuntimeError) {
        guard let unshare = Executable.find("unshare") else {
            throw RuntimeError("unshare not found: rootless RUN needs util-linux's unshare", hint: "apt-get install util-linux")
        }
        var output: [String] = []
        let status = try ProcessRunner.run(
            [unshare] + ids.unshareArguments + ["--", "/bin/sh", "-c", script, "sh"] + arguments,
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]) { output.append($0) }
        guard status == 0 else {
            throw RuntimeError("cannot \(what) in the user namespace (status \(status)): \(output.suffix(5).joined(separator: "; "))",
                               hint: "check the caller's ranges in /etc/subuid and /etc/subgid and that newuidmap (uidmap) is installed")
        }
    }

    /// The id inside the namespace, or 0 (the caller) when the namespace does not map it.
    private func mapped(_ id: Int, _ mappings: [IDMapping]) -> Int {
        mappings.contains { ($0.containerID..<($0.containerID + $0.size)).contains(id) } ? id : 0
    }

    /// Every parent of `path` is a directory, not a symlink, and the entry itself exists.
    private static func isReachable(_ path: String, in directory: String) -> Bool {
        var current = directory
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated() {
            current += "/" + component
            var info = stat()
            guard lstat(current, &info) == 0 else { return false }
            if index < components.count - 1, info.st_mode & S_IFMT != S_IFDIR { return false }
        }
        return !components.isEmpty
    }
}
