import Foundation
import HTTP
import Testing

@Suite struct RequestTests {
    let client = HTTPClient()

    @Test(arguments: [
        ("GET", RequestBody.none, 0),
        ("POST", .bytes(Array("{\"a\":1}".utf8)), 7),
        ("PUT", .bytes(pattern(from: 0, count: 100_000)), 100_000),
        ("PATCH", .bytes([1, 2, 3]), 3),
        ("DELETE", .none, 0),
        ("POST", .none, 0),
    ])
    func methodAndBodyReachTheServer(method: String, body: RequestBody, length: Int) throws {
        let peer = try Peer.plain.get()
        let echo = try Echo(client.send(HTTPRequest(method: method, url: peer.base + "/echo", body: body)))
        #expect(echo.method == method)
        #expect(echo.bytes == length)
        #expect(echo.header("Content-Length") == (method == "GET" ? nil : "\(length)"))
        #expect(!echo.chunked)
    }

    @Test func headReturnsHeadersWithoutBody() throws {
        let peer = try Peer.plain.get()
        let response = try client.send(HTTPRequest(method: "HEAD", url: peer.base + "/bytes/1000"))
        #expect(response.status == 200)
        #expect(response.headers["content-length"] == "1000")
        #expect(response.body.isEmpty)
        #expect(response.httpVersion == "1.1")
    }

    @Test func headersAreSentInOrderAndEmptyValuesSurvive() throws {
        let peer = try Peer.plain.get()
        let headers: HTTPHeaders = ["X-One": "1", "X-Empty": "", "Accept": "application/json"]
        let echo = try Echo(client.send(HTTPRequest(url: peer.base + "/echo", headers: headers)))
        #expect(echo.header("X-One") == "1")
        #expect(echo.header("X-Empty") == "")
        #expect(echo.header("Accept") == "application/json")
        #expect(echo.header("User-Agent") == "spark-image-tool/0.1")
    }

    @Test func aHeaderWithALineBreakIsRefused() throws {
        let peer = try Peer.plain.get()
        let request = HTTPRequest(url: peer.base + "/echo", headers: ["X-Evil": "a\r\nInjected: yes"])
        #expect(httpError { () throws(HTTPError) in try client.send(request) }?.kind == .other)
    }

    @Test func connectionsAreReusedAcrossRequests() throws {
        let peer = try Peer.plain.get()
        let first = try Echo(client.send(HTTPRequest(url: peer.base + "/echo")))
        let second = try Echo(client.send(HTTPRequest(method: "PUT", url: peer.base + "/echo", body: .bytes([1]))))
        #expect(first.clientPort == second.clientPort)
    }

    @Test func redirectsAreReturnedNotFollowed() throws {
        let peer = try Peer.plain.get()
        let url = peer.base + "/redirect?to=%2Fecho%3Fstate%3D1"
        let response = try client.send(HTTPRequest(url: url))
        #expect(response.status == 302)
        #expect(response.headers["Location"] == "/echo?state=1")
        #expect(HTTPClient.resolve(location: "/echo?state=1", against: url) == peer.base + "/echo?state=1")
    }

    @Test func concurrentRequestsShareOneClient() throws {
        let peer = try Peer.plain.get()
        var configuration = HTTPClientConfiguration()
        configuration.maxIdleHandles = 2
        let client = HTTPClient(configuration: configuration)
        let results = Recorder<Int>()
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let body = RequestBody.bytes(pattern(from: 0, count: 200_000 + index))
            let echo = try? Echo(client.send(HTTPRequest(method: "PUT", url: peer.base + "/echo", body: body)))
            results.append(echo?.pattern == true ? echo!.bytes : -1)
        }
        #expect(results.values.sorted() == (0 ..< 8).map { 200_000 + $0 })
    }

    @Test func debugLinesRedactSecrets() throws {
        let peer = try Peer.plain.get()
        let lines = Recorder<String>()
        var configuration = HTTPClientConfiguration()
        configuration.debug = { lines.append($0) }
        let url = peer.base.replacingOccurrences(of: "://", with: "://user:hunter2@") + "/echo"
        let headers: HTTPHeaders = ["Authorization": "Bearer s3cret", "Cookie": "session=s3cret", "X-Trace": "visible"]
        _ = try HTTPClient(configuration: configuration).send(HTTPRequest(method: "PUT", url: url, headers: headers, body: .bytes([1])))
        let log = lines.values
        #expect(log.first == "> PUT \(peer.base)/echo")
        #expect(log.contains("> Authorization: <redacted>"))
        #expect(log.contains("> X-Trace: visible"))
        #expect(log.contains("< 200 (HTTP/1.1)"))
        #expect(log.contains("< Content-Type: application/json"))
        #expect(!log.contains { $0.contains("s3cret") || $0.contains("hunter2") })
    }
}
