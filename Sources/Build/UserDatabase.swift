/// An image's `/etc/passwd` and `/etc/group`, for USER and `COPY --chown` names, resolved as
/// Docker resolves them: a name through the files, a number as it is; a user without a group
/// gets its passwd entry's primary group (0 when the image does not know the uid).
struct UserDatabase: Sendable {
    /// name → (uid, primary gid)
    private var users: [String: (uid: Int, gid: Int)] = [:]
    private var primaryGroups: [Int: Int] = [:]
    private var groups: [String: Int] = [:]

    init(passwd: String, group: String) {
        for fields in Self.records(passwd) where fields.count >= 4 {
            guard let uid = Int(fields[2]), let gid = Int(fields[3]) else { continue }
            if users[fields[0]] == nil { users[fields[0]] = (uid, gid) }
            if primaryGroups[uid] == nil { primaryGroups[uid] = gid }
        }
        for fields in Self.records(group) where fields.count >= 3 {
            guard let gid = Int(fields[2]) else { continue }
            if groups[fields[0]] == nil { groups[fields[0]] = gid }
        }
        if users["root"] == nil { users["root"] = (0, 0) }
        if groups["root"] == nil { groups["root"] = 0 }
    }

    /// `user[:group]` (names or numbers) → ids; `what` names the instruction in errors.
    func resolve(_ spec: String, what: String) throws(BuildError) -> (uid: Int, gid: Int) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let uid: Int, primary: Int
        if let number = Int(parts[0]), number >= 0 {
            (uid, primary) = (number, primaryGroups[number] ?? 0)
        } else if let user = users[parts[0]] {
            (uid, primary) = user
        } else {
            throw BuildError("\(what): no user \"\(parts[0])\" in the image's /etc/passwd",
                             hint: "create it in an earlier RUN (useradd) or use a numeric id")
        }
        guard parts.count == 2 else { return (uid, primary) }
        if let number = Int(parts[1]), number >= 0 { return (uid, number) }
        guard let gid = groups[parts[1]] else {
            throw BuildError("\(what): no group \"\(parts[1])\" in the image's /etc/group",
                             hint: "create it in an earlier RUN (groupadd) or use a numeric id")
        }
        return (uid, gid)
    }

    /// Whether `spec` needs the files at all (numbers and root do not).
    static func isNumeric(_ spec: String) -> Bool {
        spec.split(separator: ":", omittingEmptySubsequences: false).allSatisfy { $0 == "root" || Int($0) != nil }
    }

    private static func records(_ text: String) -> [[String]] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }
}
