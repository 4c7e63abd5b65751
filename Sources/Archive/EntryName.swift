/// What an unpacker makes of a tar entry's name: checked components below the target
/// directory, and the whiteout markers of image layers recognised by their exact names only.
public enum EntryName {
    /// The role of an entry's last component in an image layer.
    public enum Role: Equatable, Sendable {
        case plain
        /// `.wh.NAME`: NAME, a plain component, is deleted from the layers below.
        case whiteout(String)
        /// `.wh..wh..opq`: the directory's contents from the layers below are hidden.
        case opaque
        /// `.wh..wh.*` other than the opaque marker: aufs bookkeeping, which carries no file.
        case aufsMetadata
    }

    public struct Refusal: Error, Equatable, Sendable {
        public var reason: String
    }

    /// The components of `name` below the target directory; `[]` for the directory itself
    /// (`.` or `./`). A leading `./` and trailing `/`s are how tar writes names and are dropped;
    /// anything else that could step elsewhere is refused.
    public static func components(of name: String) throws(Refusal) -> [String] {
        guard !name.isEmpty else { throw Refusal(reason: "the name is empty") }
        guard !name.hasPrefix("/") else { throw Refusal(reason: "the name is absolute") }
        var trimmed = Substring(name)
        while trimmed.hasPrefix("./") { trimmed = trimmed.dropFirst(2) }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        if trimmed.isEmpty || trimmed == "." { return [] }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        for part in parts {
            switch part {
            case "": throw Refusal(reason: "the name has an empty component")
            case ".": throw Refusal(reason: "the name has a '.' component")
            case "..": throw Refusal(reason: "the name has a '..' component")
            default: continue
            }
        }
        return parts.map(String.init)
    }

    static let opaqueMarker = ".wh..wh..opq"

    /// The marker that hides what the layers below hold in `directory`: `directory/.wh..wh..opq`.
    public static func opaqueMarker(in directory: String) -> String { directory + "/" + opaqueMarker }

    /// The name of the whiteout that deletes `path` (a layer path, `dir/name`): `dir/.wh.name`.
    public static func whiteout(of path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let parent = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return parent + ".wh." + name
    }

    /// Whiteouts are recognised by exact names, and only a plain component can be whited out.
    public static func role(of component: String) throws(Refusal) -> Role {
        if component == opaqueMarker { return .opaque }
        if component.hasPrefix(".wh..wh.") { return .aufsMetadata }
        guard component.hasPrefix(".wh.") else { return .plain }
        let target = String(component.dropFirst(4))
        guard !target.isEmpty, target != ".", target != ".." else {
            throw Refusal(reason: "the whiteout '\(component)' does not name a file")
        }
        return .whiteout(target)
    }
}
