/// A jar's Maven coordinates: from the `pom.properties` Maven writes into it, else guessed from
/// its file name (`name-1.2.3.jar`, without a group).
public struct MavenCoordinates: Sendable, Equatable {
    public var group: String
    public var artifact: String
    public var version: String

    public init(group: String, artifact: String, version: String) {
        self.group = group
        self.artifact = artifact
        self.version = version
    }

    /// Whether a jar entry is a `META-INF/maven/GROUP/ARTIFACT/pom.properties`.
    public static func isPomProperties(_ entry: String) -> Bool {
        let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 5 && parts[0] == "META-INF" && parts[1] == "maven" && parts[4] == "pom.properties"
            && !parts[2].isEmpty && !parts[3].isEmpty
    }

    /// From a pom.properties file (Java properties: `key=value` or `key: value`, `#` comments);
    /// nil when it lacks groupId, artifactId or version.
    public init?(pomProperties text: String) {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard let first = trimmed.first, first != "#", first != "!",
                  let separator = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = trimmed[..<separator].trimmingSpaces, value = trimmed[trimmed.index(after: separator)...].trimmingSpaces
            values[key] = value
        }
        guard let group = values["groupId"], let artifact = values["artifactId"], let version = values["version"],
              !group.isEmpty, !artifact.isEmpty, !version.isEmpty else { return nil }
        self.init(group: group, artifact: artifact, version: version)
    }

    /// From a file name such as `spark-core_2.13-4.3.0.jar` or `guava-33.4.0-jre.jar`: the version
    /// starts at the first `-` followed by a digit. nil when there is no such `-`.
    public init?(fileName: String) {
        guard fileName.hasSuffix(".jar") else { return nil }
        let stem = fileName.dropLast(4)
        var index = stem.startIndex
        while let dash = stem[index...].firstIndex(of: "-") {
            let next = stem.index(after: dash)
            if next < stem.endIndex, stem[next].isASCII, stem[next].isNumber, dash > stem.startIndex {
                self.init(group: "", artifact: String(stem[..<dash]), version: String(stem[next...]))
                return
            }
            index = next
        }
        return nil
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
