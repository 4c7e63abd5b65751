import CCurl
import Foundation
@testable import HTTP
import Testing

@Suite struct TransportTests {
    let client = HTTPClient()

    /// The proxy leads nowhere: a Unix socket must never go through one.
    @Test func unixSocketsCarryHTTPAndSkipProxies() throws {
        let peer = try Peer.unix.get()
        var configuration = HTTPClientConfiguration()
        configuration.proxy = ProxySettings(httpProxy: "http://127.0.0.1:\(try unusedPort())")
        let client = HTTPClient(configuration: configuration)
        let echo = try Echo(client.send(HTTPRequest(url: "http://localhost/v1.41/_ping"), unixSocket: peer.address))
        #expect(echo.path == "/v1.41/_ping")
        #expect(echo.header("Host") == "localhost")
    }

    @Test func tlsWithTheCAFile() throws {
        let (peer, pki) = (try Peer.tls.get(), try PKI.shared.get())
        let response = try client.send(HTTPRequest(url: "https://localhost:\(peer.address)/echo"), tls: TLSOptions(caFile: pki.path("ca.pem")))
        #expect(try Echo(response).method == "GET")
        #expect(response.httpVersion == "1.1")
    }

    @Test func tlsFailsWithoutTheCA() throws {
        let peer = try Peer.tls.get()
        let error = httpError { () throws(HTTPError) in try client.send(HTTPRequest(url: "https://localhost:\(peer.address)/echo")) }
        #expect(error?.kind == .tls)
        #expect(error?.isRetryable == false)
        #expect(error?.message.contains("certificate") == true)
    }

    @Test func tlsWithoutVerificationWhenAskedTo() throws {
        let peer = try Peer.tls.get()
        let response = try client.send(HTTPRequest(url: "https://127.0.0.1:\(peer.address)/echo"), tls: TLSOptions(verify: false))
        #expect(response.status == 200)
    }

    @Test func clientCertificatesAuthenticate() throws {
        let (peer, pki) = (try Peer.mutualTLS.get(), try PKI.shared.get())
        let url = "https://localhost:\(peer.address)/echo"
        let anonymous = TLSOptions(caFile: pki.path("ca.pem"))
        #expect(httpError { () throws(HTTPError) in try client.send(HTTPRequest(url: url), tls: anonymous) } != nil)
        let authenticated = TLSOptions(caFile: pki.path("ca.pem"), clientCertificate: pki.path("client.pem"), clientKey: pki.path("client.key"))
        #expect(try client.send(HTTPRequest(url: url), tls: authenticated).status == 200)
    }

    @Test func refusedConnectionsAreRetryableAndHideCredentials() throws {
        let port = try unusedPort()
        let url = "http://user:secret@127.0.0.1:\(port)/v2/"
        let error = httpError { () throws(HTTPError) in try client.send(HTTPRequest(url: url)) }
        #expect(error?.kind == .couldNotConnect)
        #expect(error?.isRetryable == true)
        #expect(error?.url == "http://127.0.0.1:\(port)/v2/")
        #expect(error.map { !"\($0)".contains("secret") } == true)
    }

    /// Classified without a lookup: a test resolving a name would ask the machine's DNS server.
    @Test(arguments: [
        (CURLE_COULDNT_RESOLVE_HOST, HTTPError.Kind.couldNotResolveHost, false),
        (CURLE_COULDNT_CONNECT, .couldNotConnect, true),
        (CURLE_PEER_FAILED_VERIFICATION, .tls, false),
        (CURLE_OPERATION_TIMEDOUT, .timedOut, true),
        (CURLE_SEND_ERROR, .sendFailed, true),
        (CURLE_RECV_ERROR, .receiveFailed, true),
    ])
    func curlCodesAreClassified(code: CURLcode, kind: HTTPError.Kind, retryable: Bool) {
        let error = HTTPError(code: code, message: "m", url: "https://registry.invalid/v2/")
        #expect(error.kind == kind)
        #expect(error.isRetryable == retryable)
    }

    @Test func aConnectionClosedMidBodyIsARetryableReceiveFailure() throws {
        let peer = try Peer.plain.get()
        let error = httpError { () throws(HTTPError) in try client.send(HTTPRequest(url: peer.base + "/close")) }
        #expect(error?.kind == .receiveFailed)
        #expect(error?.isRetryable == true)
    }

    /// The server answers and hangs up while a large body is still going out over TLS.
    @Test func aPeerThatHangsUpDuringAnUploadIsARetryableFailure() throws {
        let (peer, pki) = (try Peer.tls.get(), try PKI.shared.get())
        let request = HTTPRequest(method: "PUT", url: "https://localhost:\(peer.address)/close", headers: ["Expect": ""],
                                  body: .bytes([UInt8](repeating: 7, count: 32 << 20)))
        let error = httpError { () throws(HTTPError) in try client.send(request, tls: TLSOptions(caFile: pki.path("ca.pem"))) }
        // Which side curl notices first is a race: the broken pipe, or the short response.
        #expect(error?.kind == .sendFailed || error?.kind == .receiveFailed)
        #expect(error?.isRetryable == true)
    }

    @Test func aStalledTransferTimesOut() throws {
        let peer = try Peer.plain.get()
        var configuration = HTTPClientConfiguration()
        configuration.lowSpeedTime = .seconds(1)
        let error = httpError { () throws(HTTPError) in
            try HTTPClient(configuration: configuration).send(HTTPRequest(url: peer.base + "/stall"))
        }
        #expect(error?.kind == .timedOut)
        #expect(error?.isRetryable == true)
    }
}

@Suite struct ProxyTests {
    private func client(_ environment: [String: String]) -> HTTPClient {
        var configuration = HTTPClientConfiguration()
        configuration.proxy = ProxySettings(environment: environment)
        return HTTPClient(configuration: configuration)
    }

    private func proxyLog() throws -> String {
        (try? String(contentsOfFile: Scratch.shared.get().path("proxy.log"), encoding: .utf8)) ?? ""
    }

    @Test func httpGoesThroughHTTP_PROXY() throws {
        let proxy = try Peer.proxy.get()
        let url = "http://registry.invalid/v2/\(UUID().uuidString)"
        let response = try client(["HTTP_PROXY": proxy.base]).send(HTTPRequest(url: url))
        #expect(response.body == Array("proxied".utf8))
        #expect(try proxyLog().contains("GET \(url) HTTP/1.1"))
    }

    @Test func httpsTunnelsThroughHTTPS_PROXY() throws {
        let (proxy, peer, pki) = (try Peer.proxy.get(), try Peer.tls.get(), try PKI.shared.get())
        let response = try client(["HTTPS_PROXY": proxy.base, "HTTP_PROXY": "http://127.0.0.1:1"])
            .send(HTTPRequest(url: "https://localhost:\(peer.address)/echo"), tls: TLSOptions(caFile: pki.path("ca.pem")))
        #expect(try Echo(response).path == "/echo")
        #expect(try proxyLog().contains("CONNECT localhost:\(peer.address) HTTP/1.1"))
    }

    @Test func noProxyBypassesTheProxy() throws {
        let (proxy, peer) = (try Peer.proxy.get(), try Peer.plain.get())
        let path = "/echo?\(UUID().uuidString)"
        let response = try client(["http_proxy": proxy.base, "NO_PROXY": "example.com,127.0.0.1"]).send(HTTPRequest(url: peer.base + path))
        #expect(try Echo(response).path == path)
        #expect(try !proxyLog().contains(path))
    }
}
