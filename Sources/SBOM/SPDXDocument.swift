import Foundation

/// An SPDX 2.3 document in its JSON form (spdx.github.io/spdx-spec/v2.3): the image as one
/// package that CONTAINS every package found in it. Field names match the spec.
public struct SPDXDocument: Codable, Sendable, Equatable {
    public var spdxVersion = "SPDX-2.3"
    public var dataLicense = "CC0-1.0"
    public var SPDXID = "SPDXRef-DOCUMENT"
    public var name: String
    public var documentNamespace: String
    public var creationInfo: CreationInfo
    public var packages: [Package]
    public var relationships: [Relationship]

    public struct CreationInfo: Codable, Sendable, Equatable {
        public var created: String
        public var creators: [String]
    }

    public struct Package: Codable, Sendable, Equatable {
        public var SPDXID: String
        public var name: String
        public var versionInfo: String?
        public var downloadLocation = "NOASSERTION"
        public var filesAnalyzed = false
        public var packageFileName: String?
        public var primaryPackagePurpose: String?
        public var checksums: [Checksum]?
        public var externalRefs: [ExternalRef]
        public var comment: String?
    }

    public struct Checksum: Codable, Sendable, Equatable {
        public var algorithm: String
        public var checksumValue: String
    }

    public struct ExternalRef: Codable, Sendable, Equatable {
        public var referenceCategory = "PACKAGE-MANAGER"
        public var referenceType = "purl"
        public var referenceLocator: String
    }

    public struct Relationship: Codable, Sendable, Equatable {
        public var spdxElementId: String
        public var relationshipType: String
        public var relatedSpdxElement: String
    }
}

/// What the document says about the image itself.
public struct ImageSubject: Sendable, Equatable {
    /// `registry/repository`, e.g. `localhost:5000/spark/spark`.
    public var name: String
    public var tag: String?
    /// The manifest digest, `sha256:…`.
    public var digest: String
    /// Seconds since the epoch: the image's creation time, so the same image gives the same document.
    public var created: Int64

    public init(name: String, tag: String?, digest: String, created: Int64) {
        self.name = name
        self.tag = tag
        self.digest = digest
        self.created = created
    }
}

extension SPDXDocument {
    static let imageID = "SPDXRef-Image"

    /// The document for `packages` found in `image`, in a stable order so equal inputs give equal bytes.
    public init(image: ImageSubject, packages: [SoftwarePackage]) {
        let sorted = packages.sorted { ($0.path, $0.name, $0.version ?? "") < ($1.path, $1.name, $1.version ?? "") }
        let entries = sorted.enumerated().map { index, package in Package(package, id: "SPDXRef-Package-\(index + 1)") }
        let hex = image.digest.split(separator: ":").last.map(String.init) ?? image.digest
        self.init(name: image.name + (image.tag.map { ":" + $0 } ?? ""),
                  documentNamespace: "https://spark-image-tool.invalid/spdx/\(image.name)/\(hex)",
                  creationInfo: CreationInfo(created: Self.timestamp(image.created), creators: ["Tool: spark-image-tool"]),
                  packages: [Self.imagePackage(image)] + entries,
                  relationships: [Relationship(spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: Self.imageID)]
                    + entries.map { Relationship(spdxElementId: Self.imageID, relationshipType: "CONTAINS", relatedSpdxElement: $0.SPDXID) })
    }

    private static func imagePackage(_ image: ImageSubject) -> Package {
        let last = image.name.split(separator: "/").last.map(String.init) ?? image.name
        let purl = "pkg:oci/\(Purl.escape(last))@\(Purl.escape(image.digest))?repository_url=\(Purl.escape(image.name))"
        return Package(SPDXID: imageID, name: image.name, versionInfo: image.digest, primaryPackagePurpose: "CONTAINER",
                       externalRefs: [ExternalRef(referenceLocator: purl)])
    }

    /// SPDX's `YYYY-MM-DDThh:mm:ssZ`.
    static func timestamp(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// Pretty, sorted JSON: meant to be read by people as well as scanners.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0a]
    }
}

extension SPDXDocument.Package {
    init(_ package: SoftwarePackage, id: String) {
        let (name, comment): (String, String?) = switch package.ecosystem {
        case .maven(let group) where group.isEmpty: (package.name, "Maven coordinates guessed from the file name")
        case .maven(let group): ("\(group):\(package.name)", "Maven coordinates from the jar's pom.properties")
        case .pypi, .debian: (package.name, nil)
        }
        self.init(SPDXID: id, name: name, versionInfo: package.version, packageFileName: package.path,
                  checksums: package.sha256.map { [SPDXDocument.Checksum(algorithm: "SHA256", checksumValue: $0)] },
                  externalRefs: [SPDXDocument.ExternalRef(referenceLocator: package.purl)], comment: comment)
    }
}
