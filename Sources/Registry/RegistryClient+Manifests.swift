import Foundation
import HTTP
import OCI
import Support

/// A manifest or index as a registry serves it.
public struct FetchedManifest: Sendable {
    public var bytes: [UInt8]
    public var mediaType: String
    public var digest: Digest
}

extension RegistryClient {
    static let acceptedManifests = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest]

    /// GET a manifest by tag or digest; the digest is computed by the caller's store when it is
    /// stored, and checked here against Docker-Content-Digest when the registry sends one.
    public func manifest(_ reference: String, repository: String) throws -> FetchedManifest {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: Self.acceptedManifests.joined(separator: ", "))
        let reply = try send("GET", "/v2/\(repository)/manifests/\(reference)", headers: headers, scopes: [Self.pullScope(repository)],
                             response: .collect(limit: 8 << 20))
        guard reply.status == 200 else {
            throw failure(reply, action: "getting manifest \(repository):\(reference)",
                          hint: reply.status == 404 ? "check the image name and tag" : nil)
        }
        let mediaType = reply.headers["Content-Type"].map { String($0.split(separator: ";")[0]) } ?? MediaType.ociManifest
        let digest = Digest(sha256Hex: SHA256Hex.of(reply.body))
        if let announced = reply.headers["Docker-Content-Digest"], announced != digest.description, reference.hasPrefix("sha256:") == false {
            log("note: \(registry) announced \(announced) for \(repository):\(reference), content hashes to \(digest)")
        }
        if reference.hasPrefix("sha256:"), reference != digest.description {
            throw RegistryError("\(registry) served content for \(repository)@\(reference) that hashes to \(digest); refusing it", kind: .verification)
        }
        return FetchedManifest(bytes: reply.body, mediaType: mediaType, digest: digest)
    }

    /// PUT a manifest or index under a tag (or its digest), with Content-Type = its media type.
    public func putManifest(_ bytes: [UInt8], mediaType: String, repository: String, reference: String) throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: mediaType)
        let reply = try send("PUT", "/v2/\(repository)/manifests/\(reference)", headers: headers, body: .bytes(bytes),
                             scopes: [Self.pushScope(repository)])
        guard reply.status == 201 else { throw failure(reply, action: "putting manifest \(repository):\(reference)") }
    }

    /// HEAD a tag: the digest the registry serves for it, or nil if it has no such tag.
    public func manifestDigest(_ reference: String, repository: String) throws -> Digest? {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: Self.acceptedManifests.joined(separator: ", "))
        let reply = try send("HEAD", "/v2/\(repository)/manifests/\(reference)", headers: headers,
                             scopes: [Self.pullScope(repository)], response: .discard)
        if reply.status == 404 { return nil }
        guard reply.status == 200 else { throw failure(reply, action: "checking manifest \(repository):\(reference)") }
        return try reply.headers["Docker-Content-Digest"].map { try Digest(parsing: $0) }
    }
}
