/// Splits the Engine API's multiplexed output (exec and attach without a TTY) into frames: an
/// 8-byte header (stream byte, three zero bytes, big-endian UInt32 payload length), then the
/// payload. Pure: bytes go in as they arrive, split anywhere, and whole frames come out.
public struct FrameDemultiplexer: Sendable {
    public enum Stream: UInt8, Sendable {
        case stdin = 0, stdout = 1, stderr = 2
        /// The daemon's own error about the process (stdcopy's `Systemerr`).
        case systemError = 3
    }

    public struct Frame: Sendable, Equatable {
        public var stream: Stream
        public var payload: [UInt8]

        public init(_ stream: Stream, _ payload: [UInt8]) {
            self.stream = stream
            self.payload = payload
        }
    }

    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "the daemon's output stream is malformed: \(reason)" }
    }

    static let headerLength = 8
    /// A frame claiming more than this is a broken stream, not output to buffer.
    static let maximumPayload = 64 << 20

    private var buffered: [UInt8] = []

    public init() {}

    /// The frames completed by `bytes`.
    public mutating func push(_ bytes: some Collection<UInt8>) throws(Malformed) -> [Frame] {
        buffered.append(contentsOf: bytes)
        var frames: [Frame] = []
        var start = 0
        while let (frame, length) = try Self.frame(in: buffered[start...]) {
            frames.append(frame)
            start += length
        }
        buffered.removeFirst(start)
        return frames
    }

    /// Call at end of stream: a frame cut short is an error.
    public func finish() throws(Malformed) {
        guard buffered.isEmpty else { throw Malformed(reason: "it ends inside a frame (\(buffered.count) bytes left over)") }
    }

    /// The first complete frame of `bytes` and its length on the wire, or nil when incomplete.
    private static func frame(in bytes: ArraySlice<UInt8>) throws(Malformed) -> (Frame, Int)? {
        guard bytes.count >= headerLength else { return nil }
        let header = Array(bytes.prefix(headerLength))
        guard let stream = Stream(rawValue: header[0]) else { throw Malformed(reason: "unknown stream \(header[0])") }
        let length = header[4 ..< 8].reduce(0) { $0 << 8 | Int($1) }
        guard length <= maximumPayload else { throw Malformed(reason: "a frame of \(length) bytes") }
        guard bytes.count >= headerLength + length else { return nil }
        let payload = Array(bytes.dropFirst(headerLength).prefix(length))
        return (Frame(stream, payload), headerLength + length)
    }
}
