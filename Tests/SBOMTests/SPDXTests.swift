import Foundation
import Testing
@testable import SBOM

/// Decodes the encoded document as plain JSON, the way another tool would, and checks the fields
/// SPDX 2.3 requires.
struct SPDXTests {
    static let image = ImageSubject(name: "localhost:5000/spark/spark", tag: "4.3.0", digest: "sha256:" + String(repeating: "ab", count: 32),
                                    created: 1_700_000_000)
    static let packages = [
        SoftwarePackage(ecosystem: .maven(group: "org.apache.spark"), name: "spark-core_2.13", version: "4.3.0",
                        path: "/opt/spark/jars/spark-core_2.13-4.3.0.jar", sha256: String(repeating: "1", count: 64)),
        SoftwarePackage(ecosystem: .maven(group: ""), name: "plain", version: "1.0", path: "/opt/spark/jars/plain-1.0.jar",
                        sha256: String(repeating: "2", count: 64)),
        SoftwarePackage(ecosystem: .debian(architecture: "amd64"), name: "libc6", version: "2.36-9", path: "/var/lib/dpkg/status"),
    ]

    static func decoded(_ packages: [SoftwarePackage] = packages) throws -> [String: Any] {
        let bytes = try SPDXDocument(image: image, packages: packages).encoded()
        return try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func requiredDocumentFields() throws {
        let document = try Self.decoded()
        #expect(document["spdxVersion"] as? String == "SPDX-2.3")
        #expect(document["dataLicense"] as? String == "CC0-1.0")
        #expect(document["SPDXID"] as? String == "SPDXRef-DOCUMENT")
        #expect(document["name"] as? String == "localhost:5000/spark/spark:4.3.0")
        let namespace = try #require(document["documentNamespace"] as? String)
        #expect(URL(string: namespace)?.scheme == "https" && namespace.hasSuffix(String(repeating: "ab", count: 32)))
        let creation = try #require(document["creationInfo"] as? [String: Any])
        #expect(creation["created"] as? String == "2023-11-14T22:13:20Z")
        #expect((creation["creators"] as? [String])?.first?.hasPrefix("Tool: ") == true)
    }

    @Test func everyPackageHasTheRequiredFields() throws {
        let packages = try #require(try Self.decoded()["packages"] as? [[String: Any]])
        #expect(packages.count == 4)
        let ids = packages.compactMap { $0["SPDXID"] as? String }
        #expect(Set(ids).count == 4 && ids.allSatisfy { $0.range(of: "^SPDXRef-[A-Za-z0-9.-]+$", options: .regularExpression) != nil })
        for package in packages {
            #expect(package["name"] is String && package["versionInfo"] is String && package["downloadLocation"] as? String == "NOASSERTION")
            let refs = try #require(package["externalRefs"] as? [[String: String]])
            #expect(refs.first?["referenceType"] == "purl" && refs.first?["referenceCategory"] == "PACKAGE-MANAGER")
        }
    }

    @Test func filesCarryTheirChecksumAndPackagesWithoutAFileNone() throws {
        let packages = try #require(try Self.decoded()["packages"] as? [[String: Any]])
        let byPurl = Dictionary(uniqueKeysWithValues: packages.map { (($0["externalRefs"] as! [[String: String]])[0]["referenceLocator"]!, $0) })
        let core = try #require(byPurl["pkg:maven/org.apache.spark/spark-core_2.13@4.3.0"])
        #expect(core["name"] as? String == "org.apache.spark:spark-core_2.13")
        #expect(core["packageFileName"] as? String == "/opt/spark/jars/spark-core_2.13-4.3.0.jar")
        #expect((core["checksums"] as? [[String: String]]) == [["algorithm": "SHA256", "checksumValue": String(repeating: "1", count: 64)]])
        let libc = try #require(byPurl["pkg:deb/debian/libc6@2.36-9?arch=amd64"])
        #expect(libc["checksums"] == nil)
    }

    @Test func theImageDescribedContainsEveryPackage() throws {
        let document = try Self.decoded()
        let relationships = try #require(document["relationships"] as? [[String: String]])
        #expect(relationships.contains(["spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Image"]))
        #expect(relationships.filter { $0["relationshipType"] == "CONTAINS" }.count == 3)
    }

    @Test func theSameFindsInAnyOrderGiveTheSameBytes() throws {
        let one = try SPDXDocument(image: Self.image, packages: Self.packages).encoded()
        let other = try SPDXDocument(image: Self.image, packages: Self.packages.reversed()).encoded()
        #expect(one == other)
    }
}
