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

    public init(uid: Int, gid: Int, userName: String?, subuid: String?, subgid: String?) {
        uidMappings = Self.mappings(id: uid, name: userName, subordinate: subuid)
        gidMappings = Self.mappings(id: gid, name: userName, subordinate: subgid)
    }

    private static func mappings(id: Int, name: String?, subordinate text: String?) -> [IDMapping] {
        let own = IDMapping(containerID: 0, hostID: id, size: 1)
        guard let range = text.flatMap({ firstRange(in: $0, id: id, name: name) }) else { return [own] }
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
