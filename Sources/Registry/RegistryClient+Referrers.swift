import Foundation
import HTTP
import OCI
import Support

extension RegistryClient {
    /// PUT a manifest that has a `subject`; true when the registry indexed it as a referrer (it
    /// answers with `OCI-Subject`), false when the client must keep the tag-schema index itself.
    public func putReferrer(_ bytes: [UInt8], mediaType: String, repository: String, digest: Digest) throws -> Bool {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: mediaType)
        let reply = try send("PUT", "/v2/\(repository)/manifests/\(digest)", headers: headers, body: .bytes(bytes),
                             scopes: [Self.pushScope(repository)])
        guard reply.status == 201 else { throw failure(reply, action: "putting referrer manifest \(repository)@\(digest)") }
        return reply.headers["OCI-Subject"] != nil
    }

    /// The referrers API (OCI distribution 1.1): the index of manifests whose subject is
    /// `digest`, or nil when the registry has no such API (404), so the caller reads the tag schema.
    public func referrers(of digest: Digest, repository: String) throws -> ImageIndex? {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: MediaType.ociIndex)
        let reply = try send("GET", "/v2/\(repository)/referrers/\(digest)", headers: headers, scopes: [Self.pullScope(repository)],
                             response: .collect(limit: Self.documentLimit))
        if reply.status == 404 { return nil }
        guard reply.status == 200 else { throw failure(reply, action: "listing referrers of \(repository)@\(digest)") }
        do { return try CanonicalJSON.decode(ImageIndex.self, from: reply.body) } catch {
            throw RegistryError("\(registry) answered the referrers of \(repository)@\(digest) with something that is not an image index: \(error)")
        }
    }

    /// The referrers tag schema's tag for `digest`: `sha256-<hex>`.
    public static func referrersTag(_ digest: Digest) -> String { "\(digest.algorithm)-\(digest.encoded)" }
}
