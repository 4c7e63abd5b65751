/// The status line and header fields of an HTTP/1.1 response read off a raw connection (a
/// hijacked one, where curl does not parse for us). Pure: tested with tables.
public struct ResponseHead: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders
    /// Bytes of the head, blank line included; what follows belongs to the body or stream.
    public var length: Int

    /// A head larger than this is refused rather than buffered without end.
    public static let maximumLength = 64 << 10

    /// nil while `bytes` does not yet hold the blank line that ends the head.
    public static func parse(_ bytes: some Collection<UInt8>) throws(HTTPError) -> ResponseHead? {
        let bytes = Array(bytes)
        guard let end = endOfHead(in: bytes) else {
            guard bytes.count <= maximumLength else { throw malformed("no end of the header block in \(maximumLength) bytes") }
            return nil
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0]
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100 ... 599).contains(status) else {
            throw malformed("bad status line '\(statusLine.prefix(80))'")
        }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw malformed("bad header line '\(line.prefix(80))'") }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingBlanks)
        }
        return ResponseHead(status: status, headers: headers, length: end + 4)
    }

    /// The index of the `\r\n\r\n` that ends the head.
    private static func endOfHead(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        return (0 ... bytes.count - 4).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }
    }

    private static func malformed(_ reason: String) -> HTTPError {
        HTTPError(kind: .receiveFailed, message: "malformed HTTP response: \(reason)")
    }
}
