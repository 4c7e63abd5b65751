import Crypto

/// Hex SHA-256 of a small document (manifests); blobs are hashed by the store as they stream.
func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}
