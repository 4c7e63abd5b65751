import Foundation
import HTTP
import OCI

extension RegistryClient {
    public static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
    public static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

    /// HEAD: whether the repository already has the blob.
    public func blobExists(_ digest: Digest, repository: String, scopes: [String]? = nil) throws -> Bool {
        let reply = try send("HEAD", "/v2/\(repository)/blobs/\(digest)", scopes: scopes ?? [Self.pullScope(repository)], response: .discard)
        switch reply.status {
        case 200: return true
        case 404: return false
        default: throw failure(reply, action: "checking blob \(digest) in \(repository)")
        }
    }

    /// Cross-repository mount: true when the registry linked the blob from `source`. When it
    /// cannot, it may open an upload session instead, whose Location is returned for reuse.
    public func mountBlob(_ digest: Digest, into repository: String, from source: String) throws -> (mounted: Bool, session: String?) {
        let reply = try send("POST", "/v2/\(repository)/blobs/uploads/?mount=\(digest)&from=\(source)",
                             scopes: [Self.pushScope(repository), Self.pullScope(source)])
        switch reply.status {
        case 201: return (true, nil)
        case 202: return (false, try location(of: reply))
        default: throw failure(reply, action: "mounting blob \(digest) from \(source) into \(repository)")
        }
    }

    /// Uploads a blob from a file, monolithically (one PUT) or in chunks, starting a fresh
    /// session after a failed one. `progress` gets the bytes sent so far.
    public func uploadBlob(path: String, digest: Digest, size: Int64, repository: String, session: String? = nil,
                           progress: (@Sendable (Int64) -> Void)? = nil) throws {
        var session = session
        var lastError: (any Error)?
        for attempt in 1...max(1, options.retry.maxRetries + 1) {
            do {
                let location = try session ?? startUpload(repository: repository)
                if let chunkSize = options.chunkSize {
                    try uploadChunked(path: path, digest: digest, size: size, repository: repository, location: location,
                                      chunkSize: chunkSize, progress: progress)
                } else {
                    try uploadMonolithic(path: path, digest: digest, size: size, repository: repository, location: location, progress: progress)
                }
                return
            } catch let error as RegistryError where error.status.map({ (400..<500).contains($0) && $0 != 404 && $0 != 408 && $0 != 416 && $0 != 429 }) == true {
                throw error
            } catch {
                lastError = error
                session = nil
                log("upload of \(digest) failed (try \(attempt)): \(error); starting a new session")
            }
        }
        throw lastError!
    }

    private func startUpload(repository: String) throws -> String {
        let reply = try send("POST", "/v2/\(repository)/blobs/uploads/", scopes: [Self.pushScope(repository)])
        guard reply.status == 202 else { throw failure(reply, action: "starting an upload to \(repository)") }
        return try location(of: reply)
    }

    private func uploadMonolithic(path: String, digest: Digest, size: Int64, repository: String, location: String,
                                  progress: (@Sendable (Int64) -> Void)?) throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/octet-stream")
        let reply = try send("PUT", Self.appending("digest=\(digest)", to: location), headers: headers,
                             body: .file(path: path, offset: 0, length: size), scopes: [Self.pushScope(repository)])
        guard reply.status == 201 else { throw failure(reply, action: "uploading blob \(digest) to \(repository)") }
        progress?(size)
    }

    /// PATCH chunks with Content-Range, following the newest Location; after a dropped
    /// connection or a 416, asks the session where it stands and resumes from there.
    private func uploadChunked(path: String, digest: Digest, size: Int64, repository: String, location start: String,
                               chunkSize: Int, progress: (@Sendable (Int64) -> Void)?) throws {
        var location = start
        var offset: Int64 = 0
        var resumes = 0
        var stalls = 0
        while offset < size {
            let length = min(Int64(chunkSize), size - offset)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/octet-stream")
            headers.add(name: "Content-Range", value: "\(offset)-\(offset + length - 1)")
            let reply: HTTPResponse
            do {
                reply = try send("PATCH", location, headers: headers, body: .file(path: path, offset: offset, length: length),
                                 scopes: [Self.pushScope(repository)])
            } catch let error as RegistryError where resumes < options.retry.maxRetries {
                resumes += 1
                log("chunk at \(offset) of \(digest) failed: \(error); resuming")
                (location, offset) = try uploadStatus(location, size: size, repository: repository)
                continue
            }
            if reply.status == 416, resumes < options.retry.maxRetries {
                resumes += 1
                (location, offset) = try uploadStatus(location, size: size, repository: repository)
                continue
            }
            guard reply.status == 202 else { throw failure(reply, action: "uploading a chunk of \(digest) to \(repository)") }
            location = try self.location(of: reply)
            let next = try Self.nextOffset(range: reply.headers["Range"], size: size) ?? (offset + length)
            stalls = next > offset ? 0 : stalls + 1
            guard stalls <= Self.maxStalls else {
                throw RegistryError("uploading \(digest) to \(registry)/\(repository): the registry keeps answering Range: \(reply.headers["Range"] ?? "")"
                                    + " and the upload does not advance past byte \(offset)", hint: "the registry's upload session is broken; try without --chunk-size")
            }
            offset = next
            progress?(offset)
        }
        let reply = try send("PUT", Self.appending("digest=\(digest)", to: location), scopes: [Self.pushScope(repository)])
        guard reply.status == 201 else { throw failure(reply, action: "completing the upload of \(digest) to \(repository)") }
    }

    /// GET on an upload session: its newest Location and the next offset from `Range: 0-N`.
    private func uploadStatus(_ location: String, size: Int64, repository: String) throws -> (String, Int64) {
        let reply = try send("GET", location, scopes: [Self.pushScope(repository)])
        guard reply.status == 204 else { throw failure(reply, action: "checking an upload session in \(repository)") }
        let next = (try? self.location(of: reply)) ?? location
        return (next, try Self.nextOffset(range: reply.headers["Range"], size: size) ?? 0)
    }

    /// 202s in a row that do not move the upload forward before it is given up.
    static let maxStalls = 3

    /// Streams a blob to `write`, following redirects to storage without the Authorization
    /// header when the origin changes. `write` sees each byte once, in order, even when a
    /// request is retried, and exactly `size` bytes or the download fails. The caller verifies
    /// the digest.
    public func downloadBlob(_ digest: Digest, size: Int64, repository: String,
                             write: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) throws {
        let what = "blob \(digest) from \(registry)/\(repository)"
        guard size >= 0 else { throw RegistryError("\(what): its descriptor gives a negative size (\(size)); refusing it") }
        let receiver = BlobReceiver(size: size, what: what, write: write)
        var url = try base() + "/v2/\(repository)/blobs/\(digest)"
        for _ in 0..<5 {
            let reply: HTTPResponse
            if Self.sameOrigin(url, try base()) {
                reply = try send("GET", url, scopes: [Self.pullScope(repository)], response: .stream(receiver.receive),
                                 beforeEachTry: receiver.restart)
            } else {
                log("> GET \(Self.withoutQuery(url)) (redirected, no Authorization)")
                receiver.restart()
                do { reply = try http.send(HTTPRequest(method: "GET", url: url), response: .stream(receiver.receive), tls: tls(for: url)) } catch {
                    if let underlying = error.underlying { throw underlying }
                    throw transportError(error, action: "download \(digest) from storage")
                }
            }
            if (300..<400).contains(reply.status) {
                url = try location(of: reply)
                continue
            }
            guard reply.status == 200 else { throw failure(reply, action: "downloading blob \(digest) from \(repository)") }
            try receiver.checkComplete()
            return
        }
        throw RegistryError("downloading blob \(digest) from \(repository): too many redirects")
    }

    /// What a pull can take from a manifest: sha256 blobs (the store's algorithm), sizes that
    /// are not negative, and a config small enough to read into memory.
    public static func checkBlobs(config: Descriptor, layers: [Descriptor], of image: String) throws {
        for blob in [config] + layers {
            guard blob.digest.algorithm == "sha256" else {
                throw RegistryError("\(image): blob \(blob.digest) uses \(blob.digest.algorithm), which the store does not support",
                                    hint: "only sha256 blobs can be pulled")
            }
            guard blob.size >= 0 else { throw RegistryError("\(image): blob \(blob.digest) has a negative size (\(blob.size)) in its manifest") }
        }
        guard config.size <= documentLimit else {
            throw RegistryError("\(image): its config \(config.digest) is \(config.size) bytes, more than the \(documentLimit) allowed",
                                hint: "real image configs are a few KiB; check the registry")
        }
    }

    func location(of reply: HTTPResponse) throws -> String {
        guard let location = reply.headers["Location"] else {
            throw RegistryError("\(registry) answered \(reply.status) without a Location header")
        }
        return HTTPClient.resolve(location: location, against: reply.url) ?? location
    }

    static func appending(_ query: String, to url: String) -> String {
        url + (url.contains("?") ? "&" : "?") + query
    }

    /// The offset after `Range: 0-N` (some registries write `bytes=0-N`): N + 1, nil when the
    /// header is missing or unreadable. An N at or past the blob's end is the registry's error.
    static func nextOffset(range header: String?, size: Int64) throws -> Int64? {
        guard let header else { return nil }
        let value = header.trimmingCharacters(in: .whitespaces)
        let parts = (value.hasPrefix("bytes=") ? value.dropFirst(6) : Substring(value)).split(separator: "-", omittingEmptySubsequences: false)
        let isNumber = { (text: Substring) in !text.isEmpty && text.allSatisfy { ("0"..."9").contains($0) } }
        guard parts.count == 2, isNumber(parts[0]), isNumber(parts[1]) else { return nil }
        guard let end = Int64(parts[1]), end < size else {
            throw RegistryError("the registry says it holds bytes up to \(parts[1]) (Range: \(header)) of a \(size)-byte blob",
                                hint: "the registry's upload session is broken; retry the push")
        }
        return end + 1
    }
}
