import Foundation
import Glibc

/// One line of a user namespace's uid or gid map: `size` ids from `hostID` appear as `containerID`.
public struct IDMapping: Encodable, Equatable, Sendable {
    public var containerID: Int
    public var hostID: Int
    public var size: Int

    public init(containerID: Int, hostID: Int, size: Int) {
        self.containerID = containerID
        self.hostID = hostID
        self.size = size
    }
}

/// The ids a rootless RUN has: root inside is the caller outside; ids from 1 up come from the
/// caller's first range in `/etc/subuid` (`/etc/subgid`), when it has one.
public struct RootlessIDs: Equatable, Sendable {
    public var uidMappings: [IDMapping]
    public var gidMappings: [IDMapping]

    /// `subuid` and `subgid` are the files' text; both name their owner by login name or uid.
    public init(uid: Int, gid: Int, userName: String?, subuid: String?, subgid: String?) {
        uidMappings = Self.mappings(own: uid, range: subuid.flatMap { Self.firstRange(in: $0, id: uid, name: userName) })
        gidMappings = Self.mappings(own: gid, range: subgid.flatMap { Self.firstRange(in: $0, id: uid, name: userName) })
    }

    /// The calling user's, with its ranges from /etc/subuid and /etc/subgid.
    public static func currentUser() -> RootlessIDs {
        let uid = getuid()
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let name = getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0 && result != nil ? String(cString: entry.pw_name) : nil
        return RootlessIDs(
            uid: Int(uid), gid: Int(getgid()), userName: name,
            subuid: try? String(contentsOfFile: "/etc/subuid", encoding: .utf8),
            subgid: try? String(contentsOfFile: "/etc/subgid", encoding: .utf8))
    }

    /// Whether ids other than root exist inside (the caller has a subordinate range).
    public var hasSubordinateIDs: Bool { uidMappings.count > 1 || gidMappings.count > 1 }

    /// util-linux `unshare` options for the user namespace: root inside is the caller;
    /// subordinate ranges, when the caller has them, through newuidmap.
    var unshareArguments: [String] {
        let uids = uidMappings.dropFirst(), gids = gidMappings.dropFirst()
        guard !uids.isEmpty || !gids.isEmpty else { return ["--map-root-user"] }
        return ["--map-user=0", "--map-group=0"]
            + uids.map { "--map-users=\($0.hostID),\($0.containerID),\($0.size)" }
            + gids.map { "--map-groups=\($0.hostID),\($0.containerID),\($0.size)" }
    }

    private static func mappings(own id: Int, range: (start: Int, count: Int)?) -> [IDMapping] {
        let own = IDMapping(containerID: 0, hostID: id, size: 1)
        guard let range else { return [own] }
        return [own, IDMapping(containerID: 1, hostID: range.start, size: range.count)]
    }

    /// `name-or-id:start:count` lines (subuid(5)); comments and malformed lines are skipped.
    static func firstRange(in text: String, id: Int, name: String?) -> (start: Int, count: Int)? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == String(id) || (name != nil && fields[0] == name!),
                  let start = Int(fields[1]), let count = Int(fields[2]), start >= 0, count > 0
            else { continue }
            return (start, count)
        }
        return nil
    }
}
