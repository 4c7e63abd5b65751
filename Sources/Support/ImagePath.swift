/// Paths inside an image, as tar entries spell them.
public enum ImagePath {
    /// An image path made relative for tar ("/opt/spark/" → "opt/spark", "./a/../b" → "b"); `..`
    /// never climbs above the root.
    public static func relative(_ path: String) -> String {
        var components: [Substring] = []
        for component in path.split(separator: "/") where component != "." {
            if component == ".." { _ = components.popLast() } else { components.append(component) }
        }
        return components.joined(separator: "/")
    }

    public static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory + "/" + name
    }
}
