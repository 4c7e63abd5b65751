/// `RUN --mount=type=…,key=value,…` as BuildKit reads it.
struct MountSpec {
    /// Keys each type accepts, with BuildKit's aliases already mapped to these names.
    static let keys: [String: Set<String>] = [
        "bind": ["target", "source", "from", "readonly", "readwrite"],
        "cache": ["target", "id", "sharing", "mode", "uid", "gid", "readonly"],
        "secret": ["target", "id", "required", "mode", "uid", "gid"],
        "tmpfs": ["target", "size"],
    ]
    static let aliases = ["dst": "target", "destination": "target", "src": "source", "ro": "readonly", "rw": "readwrite"]

    var type: String
    var options: [String: String?]
    /// For relative targets.
    let workdir: String

    /// Splits the expanded flag value; keys are case-insensitive, and a key may come once.
    init(_ text: String, workdir: String) throws(Problem) {
        self.workdir = workdir
        var options: [String: String?] = [:]
        for field in Self.fields(text) where !field.isEmpty {
            let equals = field.firstIndex(of: "=")
            let written = String(field[..<(equals ?? field.endIndex)]).lowercased()
            let key = Self.aliases[written] ?? written
            guard options[key] == nil else { throw Problem("--mount: \(written) given twice in \"\(text)\"") }
            // updateValue keeps a valueless key (`ro`): assigning nil through the subscript would drop it.
            options.updateValue(equals.map { String(field[field.index(after: $0)...]) }, forKey: key)
        }
        type = (options.removeValue(forKey: "type") ?? nil) ?? "bind"
        self.options = options
        try checkKeys(text)
    }

    /// Comma-separated fields; double quotes protect commas, as in Go's encoding/csv.
    private static func fields(_ text: String) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        for ch in text {
            if ch == "\"" {
                quoted.toggle()
            } else if ch == ",", !quoted {
                fields.append(field)
                field = ""
            } else {
                field.append(ch)
            }
        }
        return fields + [field]
    }

    private func checkKeys(_ text: String) throws(Problem) {
        guard let allowed = Self.keys[type] else {
            let hint = type == "ssh"
                ? "SSH agent forwarding is not supported; fetch private sources before the build"
                : "use type=bind, cache, secret or tmpfs"
            throw Problem("--mount: unsupported mount type \"\(type)\"", hint: hint)
        }
        for key in options.keys.sorted() where !allowed.contains(key) {
            let suggestion = Suggestion.closest(to: key, among: allowed.sorted()).map { "did you mean \($0)? " } ?? ""
            throw Problem(
                "--mount: unknown option \"\(key)\" for type=\(type)",
                hint: "\(suggestion)type=\(type) takes \(allowed.sorted().joined(separator: ", "))")
        }
    }

    // MARK: - Values

    func string(_ key: String) throws(Problem) -> String? {
        guard let entry = options[key] else { return nil }
        guard let value = entry, !value.isEmpty else { throw Problem("--mount: \(key) needs a value") }
        return value
    }

    /// `key`, `key=true` or `key=false`.
    func bool(_ key: String) throws(Problem) -> Bool {
        guard let entry = options[key] else { return false }
        guard let value = entry else { return true }
        switch value.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw Problem("--mount: \(key) must be true or false, not \"\(value)\"")
        }
    }

    func target(required: Bool = true) throws(Problem) -> String? {
        guard let written = try string("target") else {
            guard !required else { throw Problem("--mount type=\(type) needs a target", hint: "add target=/path/in/the/container") }
            return nil
        }
        let target = PathSyntax.absolute(written, in: workdir)
        guard target != "/" else { throw Problem("--mount: cannot mount over /", hint: "choose a directory below /") }
        return target
    }

    func mode(default value: UInt32) throws(Problem) -> UInt32 {
        guard let text = try string("mode") else { return value }
        guard text.allSatisfy({ ("0"..."7").contains($0) }), let mode = UInt32(text, radix: 8), mode <= 0o7777 else {
            throw Problem("--mount: invalid mode \"\(text)\"", hint: "use an octal mode such as 0755")
        }
        return mode
    }

    func number(_ key: String) throws(Problem) -> Int {
        guard let text = try string(key) else { return 0 }
        guard let value = Int(text), value >= 0 else { throw Problem("--mount: invalid \(key) \"\(text)\"", hint: "use a number, such as 185") }
        return value
    }

    /// Bytes, with an optional k, m or g suffix (BuildKit's RAMInBytes, binary units).
    func size() throws(Problem) -> Int64? {
        guard let text = try string("size") else { return nil }
        let units: [Character: Int64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        let lower = text.lowercased().replacingOccurrences(of: "b", with: "")
        let unit = lower.last.flatMap { units[$0] }
        guard let number = Int64(unit == nil ? lower : String(lower.dropLast())), number >= 0 else {
            throw Problem("--mount: invalid size \"\(text)\"", hint: "use bytes or a size such as 64m")
        }
        return number * (unit ?? 1)
    }
}

extension MountSpec {
    /// The mount, with `resolve` turning `from=` into a stage or image.
    func mount(resolve: (String) throws(Problem) -> CopySource) throws(Problem) -> RunMount {
        switch type {
        case "bind":
            var from = CopySource.context
            if let name = try string("from") { from = try resolve(name) }
            let readWrite = try bool("readwrite"), readOnly = try bool("readonly")
            return .bind(BindMount(
                from: from, source: PathSyntax.clean("/" + (try string("source") ?? "/")),
                target: try target()!, readWrite: readWrite && !readOnly))
        case "cache":
            let target = try target()!
            let sharingText = try string("sharing") ?? "shared"
            guard let sharing = CacheMount.Sharing(rawValue: sharingText.lowercased()) else {
                throw Problem("--mount: invalid sharing \"\(sharingText)\"", hint: "use sharing=shared, private or locked")
            }
            return .cache(CacheMount(
                id: try string("id") ?? target, target: target, sharing: sharing, mode: try mode(default: 0o755),
                uid: try number("uid"), gid: try number("gid"), readOnly: try bool("readonly")))
        case "secret":
            let written = try target(required: false)
            guard let id = try string("id") ?? written.map({ String($0.split(separator: "/").last ?? "") }) else {
                throw Problem("--mount type=secret needs an id", hint: "add id=NAME and pass --secret id=NAME,src=FILE to the build")
            }
            return .secret(SecretMount(
                id: id, target: written ?? "/run/secrets/\(id)", required: try bool("required"),
                mode: try mode(default: 0o400), uid: try number("uid"), gid: try number("gid")))
        default:
            return .tmpfs(target: try target()!, size: try size())
        }
    }
}
