import Crypto

/// Lower-case hex SHA-256 of small inputs (documents, cache keys); blobs are hashed as they stream.
public enum SHA256Hex {
    public static func of(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    public static func of(_ text: String) -> String { of(Array(text.utf8)) }

    public static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// Lower-case hex SHA-512, for documents pinned by a sha512 digest.
public enum SHA512Hex {
    public static func of(_ bytes: [UInt8]) -> String { SHA256Hex.hex(SHA512.hash(data: bytes)) }
}
