import Crypto

/// Hex SHA-256 of a small document (manifests); blobs are hashed by the store as they stream.
func sha256Hex(_ bytes: [UInt8]) -> String {
    hex(SHA256.hash(data: bytes))
}

/// Hex SHA-512, for documents pinned by a sha512 digest.
func sha512Hex(_ bytes: [UInt8]) -> String {
    hex(SHA512.hash(data: bytes))
}

private func hex(_ digest: some Sequence<UInt8>) -> String {
    digest.map { String(format: "%02x", $0) }.joined()
}
