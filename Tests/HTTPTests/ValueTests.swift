import HTTP
import Testing

@Suite struct ValueTests {
    static let base = "https://registry.example:5000/v2/spark/blobs/uploads/1?state=a"

    @Test(arguments: [
        ("https://storage.example/blob?sig=x", "https://storage.example/blob?sig=x"),
        ("/v2/spark/blobs/uploads/2?state=b", "https://registry.example:5000/v2/spark/blobs/uploads/2?state=b"),
        ("2?state=b", "https://registry.example:5000/v2/spark/blobs/uploads/2?state=b"),
        ("../../manifests/latest", "https://registry.example:5000/v2/spark/manifests/latest"),
        ("?state=c", "https://registry.example:5000/v2/spark/blobs/uploads/1?state=c"),
        ("//mirror.example/v2/x", "https://mirror.example/v2/x"),
    ])
    func locationsResolveAgainstTheRequest(location: String, expected: String) {
        #expect(HTTPClient.resolve(location: location, against: Self.base) == expected)
    }

    @Test func anUnparsableBaseResolvesToNothing() {
        #expect(HTTPClient.resolve(location: "/x", against: "not a url") == nil)
    }

    @Test(arguments: [
        ("https://user:pw@host/v2/", "https://host/v2/"),
        ("https://token@host:5000/a@b", "https://host:5000/a@b"),
        ("http://host/path?user=a@b", "http://host/path?user=a@b"),
        ("no scheme", "no scheme"),
    ])
    func credentialsAreRemovedFromURLs(url: String, expected: String) {
        #expect(HTTPClient.redactingCredentials(in: url) == expected)
    }

    @Test(arguments: [
        ("https://s3.example.com/blob?X-Amz-Signature=abc&X-Amz-Credential=k", "https://s3.example.com/blob?X-Amz-Signature=<redacted>&X-Amz-Credential=<redacted>"),
        ("http://r/v2/x/blobs/uploads/u?_state=secret&digest=sha256:1", "http://r/v2/x/blobs/uploads/u?_state=<redacted>&digest=sha256:1"),
        ("http://r/v2/x/blobs/uploads/?mount=sha256:1&from=y", "http://r/v2/x/blobs/uploads/?mount=sha256:1&from=y"),
        ("https://u:pw@blob.example/x?sig=s&flag", "https://blob.example/x?sig=<redacted>&flag"),
        ("http://r/v2/", "http://r/v2/"),
    ])
    func secretsAreRemovedFromURLs(url: String, expected: String) {
        #expect(HTTPClient.redactingSecrets(in: url) == expected)
    }

    @Test(arguments: [
        (["HTTPS_PROXY": "http://up:1", "https_proxy": "http://low:1"], ProxySettings(httpsProxy: "http://low:1")),
        (["HTTP_PROXY": "http://up:1", "NO_PROXY": "a.example"], ProxySettings(httpProxy: "http://up:1", noProxy: "a.example")),
        (["ALL_PROXY": "socks5://all:1", "https_proxy": ""], ProxySettings(httpProxy: "socks5://all:1", httpsProxy: "socks5://all:1")),
        (["no_proxy": "*", "NO_PROXY": "ignored"], ProxySettings(noProxy: "*")),
        ([:], ProxySettings()),
    ])
    func proxySettingsFromTheEnvironment(environment: [String: String], expected: ProxySettings) {
        #expect(ProxySettings(environment: environment) == expected)
    }

    @Test func headersLookUpNamesCaseInsensitively() {
        var headers: HTTPHeaders = ["Location": "/a", "WWW-Authenticate": "Basic", "www-authenticate": "Bearer realm=x"]
        #expect(headers["location"] == "/a")
        #expect(headers.values(for: "Www-Authenticate") == ["Basic", "Bearer realm=x"])
        headers["LOCATION"] = "/b"
        #expect(headers.map(\.name) == ["WWW-Authenticate", "www-authenticate", "LOCATION"])
        headers["location"] = nil
        #expect(headers["Location"] == nil)
    }
}
