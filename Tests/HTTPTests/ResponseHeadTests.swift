import HTTP
import Testing

struct ResponseHeadTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test(arguments: [
        ("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
         101, "application/vnd.docker.raw-stream"),
        ("HTTP/1.1 404 Not Found\r\nContent-Type:application/json\r\nContent-Length: 10\r\n\r\n{\"x\":1}", 404, "application/json"),
        ("HTTP/1.0 200 OK\r\n\r\n", 200, nil),
    ] as [(String, Int, String?)])
    func completeHeads(_ text: String, status: Int, contentType: String?) throws {
        let head = try #require(try ResponseHead.parse(Self.bytes(text)))
        #expect(head.status == status)
        #expect(head.headers["content-type"] == contentType)
        #expect(head.length == Self.bytes(text.components(separatedBy: "\r\n\r\n")[0] + "\r\n\r\n").count)
    }

    @Test(arguments: ["", "HTTP/1.1 101 UPGRADED\r\n", "HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r"])
    func incompleteHeadsWait(_ text: String) throws {
        #expect(try ResponseHead.parse(Self.bytes(text)) == nil)
    }

    @Test(arguments: ["SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/2 200\r\n\r\n"])
    func malformedHeadsAreRefused(_ text: String) {
        #expect(throws: HTTPError.self) { try ResponseHead.parse(Self.bytes(text)) }
    }

    @Test func endlessHeadIsRefused() {
        let text = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: y\r\n", count: 6000)
        #expect(throws: HTTPError.self) { try ResponseHead.parse(Self.bytes(text)) }
    }
}
