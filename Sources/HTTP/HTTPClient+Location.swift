import CCurl

extension HTTPClient {
    /// Resolves a `Location` (absolute, scheme-relative, path or query only) against the URL
    /// it came from, with curl's own URL parser, the one curl uses to follow redirects.
    public static func resolve(location: String, against url: String) -> String? {
        guard let parsed = ParsedURL(), parsed.set(url), parsed.set(location) else { return nil }
        return parsed.string
    }

    /// `url` without `user:password@`, for messages and logs.
    public static func redactingCredentials(in url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let authority = url[schemeEnd.upperBound...].prefix { !"/?#".contains($0) }
        guard let at = authority.lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound] + url[url.index(after: at)...])
    }
}

extension HTTPClient {
    /// Query parameters that say what a request does and carry no secret.
    static let harmlessQueryParameters: Set<String> = ["digest", "mount", "from", "n", "last", "service", "scope"]

    /// `url` for logs and messages: no `user:password@`, and the value of every query
    /// parameter but a few harmless ones replaced, since pre-signed storage URLs
    /// (`X-Amz-Signature=`, `sig=`) and upload sessions (`_state=`) carry bearer secrets there.
    public static func redactingSecrets(in url: String) -> String {
        let bare = redactingCredentials(in: url)
        guard let question = bare.firstIndex(of: "?") else { return bare }
        let query = bare[bare.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
            guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
            let name = pair[..<equals]
            return harmlessQueryParameters.contains(name.lowercased()) ? String(pair) : "\(name)=<redacted>"
        }
        return bare[...question] + query.joined(separator: "&")
    }
}

/// Owns a `CURLU*`. Setting a relative URL on one that holds a URL resolves it against that.
final class ParsedURL {
    private let raw: OpaquePointer

    init?() {
        guard let raw = curl_url() else { return nil }
        self.raw = raw
    }

    deinit { curl_url_cleanup(raw) }

    func set(_ url: String) -> Bool {
        curl_url_set(raw, CURLUPART_URL, url, 0) == CURLUE_OK
    }

    var string: String? {
        var text: UnsafeMutablePointer<CChar>?
        guard curl_url_get(raw, CURLUPART_URL, &text, 0) == CURLUE_OK, let text else { return nil }
        defer { curl_free(text) }
        return String(cString: text)
    }
}
