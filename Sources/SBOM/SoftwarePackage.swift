/// One piece of software found in an image: a jar, a Python distribution or a Debian package.
public struct SoftwarePackage: Sendable, Equatable, Codable {
    public enum Ecosystem: Sendable, Equatable, Codable {
        /// `group` is empty when the coordinates came from a file name without one.
        case maven(group: String)
        case pypi
        case debian(architecture: String)
    }

    public var ecosystem: Ecosystem
    public var name: String
    /// nil when nothing says (a jar named without a version and without pom.properties).
    public var version: String?
    /// Absolute path in the image: the file, or for packages of many files where they are recorded.
    public var path: String
    /// Lower-case hex SHA-256 of the file at `path`; nil for packages without a single file.
    public var sha256: String?

    public init(ecosystem: Ecosystem, name: String, version: String?, path: String, sha256: String? = nil) {
        self.ecosystem = ecosystem
        self.name = name
        self.version = version
        self.path = path
        self.sha256 = sha256
    }

    /// The package URL (github.com/package-url/purl-spec) naming this package.
    public var purl: String {
        let version = self.version.map { "@" + Purl.escape($0) } ?? ""
        return switch ecosystem {
        case .maven(let group):
            "pkg:maven/\(group.isEmpty ? "" : Purl.escape(group) + "/")\(Purl.escape(name))\(version)"
        case .pypi:
            "pkg:pypi/\(Purl.escape(PythonMetadata.normalized(name)))\(version)"
        case .debian(let architecture):
            "pkg:deb/debian/\(Purl.escape(name))\(version)?arch=\(Purl.escape(architecture))"
        }
    }
}

enum Purl {
    /// Percent-encodes all but the characters the purl spec leaves bare in a segment.
    static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, ("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || ".-_~".unicodeScalars.contains(scalar) {
                result.unicodeScalars.append(scalar)
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
