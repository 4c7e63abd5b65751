import DockerEngine
import Testing

struct FrameDemultiplexerTests {
    typealias Frame = FrameDemultiplexer.Frame

    static func header(_ stream: UInt8, _ length: Int) -> [UInt8] {
        [stream, 0, 0, 0, UInt8(length >> 24 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
    }

    static func wire(_ stream: UInt8, _ text: String) -> [UInt8] { header(stream, text.utf8.count) + Array(text.utf8) }

    /// Output on the wire, how it is cut into reads, and the frames that must come out.
    static let cases: [(name: String, wire: [UInt8], cuts: [Int], frames: [Frame])] = [
        ("one frame in one read", wire(1, "hello\n"), [], [Frame(.stdout, Array("hello\n".utf8))]),
        ("header split across reads", wire(2, "oops"), [3, 7], [Frame(.stderr, Array("oops".utf8))]),
        ("one byte per read", wire(1, "ab") + wire(2, "c"), Array(1 ..< 19), [Frame(.stdout, [97, 98]), Frame(.stderr, [99])]),
        ("zero-length frame", header(1, 0) + wire(1, "x"), [], [Frame(.stdout, []), Frame(.stdout, [120])]),
        ("payload split across reads", wire(1, "0123456789"), [12], [Frame(.stdout, Array("0123456789".utf8))]),
        ("stream 3 is the daemon's error", wire(3, "exec failed"), [], [Frame(.systemError, Array("exec failed".utf8))]),
        ("large length bytes", header(1, 300) + [UInt8](repeating: 7, count: 300), [5, 200], [Frame(.stdout, [UInt8](repeating: 7, count: 300))]),
    ]

    @Test(arguments: cases)
    func framesComeOutWhole(_ example: (name: String, wire: [UInt8], cuts: [Int], frames: [Frame])) throws {
        var demultiplexer = FrameDemultiplexer()
        var frames: [Frame] = []
        var start = 0
        for cut in example.cuts + [example.wire.count] {
            frames += try demultiplexer.push(example.wire[start ..< cut])
            start = cut
        }
        try demultiplexer.finish()
        #expect(frames == example.frames, "\(example.name)")
    }

    @Test(arguments: [
        ("unknown stream byte", header(4, 1) + [0]),
        ("a frame claiming 1 GiB", header(1, 1 << 30)),
    ])
    func malformedStreamsAreRefused(_ example: (String, [UInt8])) {
        var demultiplexer = FrameDemultiplexer()
        #expect(throws: FrameDemultiplexer.Malformed.self, "\(example.0)") { try demultiplexer.push(example.1) }
    }

    @Test(arguments: [header(1, 5) + [1, 2], Array(header(2, 1).prefix(5))])
    func streamEndingInsideAFrameIsAnError(_ wire: [UInt8]) throws {
        var demultiplexer = FrameDemultiplexer()
        #expect(try demultiplexer.push(wire).isEmpty)
        #expect(throws: FrameDemultiplexer.Malformed.self) { try demultiplexer.finish() }
    }
}
