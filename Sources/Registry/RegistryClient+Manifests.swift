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

    /// Manifests, indexes and configs larger than this are refused before they are read, as
    /// containerd does: they are held in memory, and real ones are a few KiB.
    public static let documentLimit = 4 << 20

    /// GET a manifest by tag or digest. A digest reference is a pin: the content must hash to
    /// it (sha256 or sha512) or it is refused. The digest returned is the content's sha256.
    public func manifest(_ reference: String, repository: String) throws -> FetchedManifest {
        let pin = try Self.pin(reference, repository: repository)
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: Self.acceptedManifests.joined(separator: ", "))
        let reply: HTTPResponse
        do {
            reply = try send("GET", "/v2/\(repository)/manifests/\(reference)", headers: headers, scopes: [Self.pullScope(repository)],
                             response: .collect(limit: Self.documentLimit))
        } catch let error as HTTPError where error.kind == .responseTooLarge {
            throw RegistryError("\(registry) served a manifest for \(repository):\(reference) larger than \(Self.documentLimit) bytes; refusing it",
                                hint: "real manifests are a few KiB; check the registry")
        }
        guard reply.status == 200 else {
            throw failure(reply, action: "getting manifest \(repository):\(reference)",
                          hint: reply.status == 404 ? "check the image name and tag" : nil)
        }
        let digest = Digest(sha256Hex: SHA256Hex.of(reply.body))
        if let pin, Self.digest(of: reply.body, algorithm: pin.algorithm) != pin {
            throw RegistryError("\(registry) served content for \(repository)@\(pin) that does not hash to it; refusing it", kind: .verification)
        }
        if pin == nil, let announced = reply.headers["Docker-Content-Digest"], announced != digest.description {
            log("note: \(registry) announced \(announced) for \(repository):\(reference), content hashes to \(digest)")
        }
        let mediaType = try Self.mediaType(header: reply.headers["Content-Type"], document: reply.body,
                                           what: "\(registry)/\(repository):\(reference)")
        return FetchedManifest(bytes: reply.body, mediaType: mediaType, digest: digest)
    }

    /// The digest a reference pins, nil for a tag; an algorithm we cannot check is refused.
    static func pin(_ reference: String, repository: String) throws -> Digest? {
        guard reference.contains(":") else { return nil }
        do { return try Digest(parsing: reference) } catch {
            throw RegistryError("cannot check \(repository)@\(reference): \(error)", hint: "pin the image by its sha256 or sha512 digest")
        }
    }

    /// The digest of `bytes` with one of the algorithms `Digest` accepts.
    static func digest(of bytes: [UInt8], algorithm: String) -> Digest? {
        switch algorithm {
        case "sha256": Digest(sha256Hex: SHA256Hex.of(bytes))
        case "sha512": try? Digest(parsing: "sha512:\(SHA512Hex.of(bytes))")
        default: nil
        }
    }

    /// The manifest's media type: the Content-Type when it names one we asked for, else the
    /// document's own `mediaType` (registries serving `application/json` or nothing), else an OCI
    /// manifest when nothing was said.
    static func mediaType(header: String?, document: [UInt8], what: String) throws -> String {
        let announced = (header ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if acceptedManifests.contains(announced) { return announced }
        struct Typed: Decodable { var mediaType: String? }
        if let declared = (try? JSONDecoder().decode(Typed.self, from: Data(document)))?.mediaType, acceptedManifests.contains(declared) {
            return declared
        }
        if announced.isEmpty { return MediaType.ociManifest }
        throw RegistryError("\(what) is served as '\(announced)', which is not an image manifest or index",
                            hint: "expected one of: \(acceptedManifests.joined(separator: ", "))")
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
