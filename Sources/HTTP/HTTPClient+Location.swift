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
