/// Slash-separated path helpers with Go's `path.Clean` semantics, so results match Docker's.
enum PathSyntax {
    /// Removes `.`, empty and resolvable `..` elements; `..` cannot climb above `/`.
    static func clean(_ path: String) -> String {
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part != ".." {
                parts.append(part)
            } else if let last = parts.last, last != ".." {
                parts.removeLast()
            } else if !rooted {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// An absolute path: `path` itself when absolute, otherwise resolved against `directory`.
    static func absolute(_ path: String, in directory: String) -> String {
        clean(path.hasPrefix("/") ? path : "/" + directory + "/" + path)
    }
}
