/// A content digest such as `sha256:4f1c…`. Only the algorithms the OCI spec registers are accepted.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let algorithm: String
    public let encoded: String

    public init(parsing text: String) throws(OCIError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw .invalidDigest(text, reason: "expected ALGORITHM:HEX")
        }
        let algorithm = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        guard let length = Digest.hexLength[algorithm] else {
            throw .invalidDigest(text, reason: "unsupported algorithm '\(algorithm)'")
        }
        guard encoded.utf8.count == length, encoded.utf8.allSatisfy(Digest.isLowerHex) else {
            throw .invalidDigest(text, reason: "\(algorithm) needs \(length) lowercase hex digits")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// A sha256 digest from its hex form, for hashes this program computed itself.
    public init(sha256Hex hex: String) {
        precondition(hex.utf8.count == 64 && hex.utf8.allSatisfy(Digest.isLowerHex), "not a sha256 hex digest")
        algorithm = "sha256"
        encoded = hex
    }

    public var description: String { "\(algorithm):\(encoded)" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    private static let hexLength = ["sha256": 64, "sha512": 128]
    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}

extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
